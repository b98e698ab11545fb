"""The tables that ship inside scikit-learn: specs and datamodules."""
