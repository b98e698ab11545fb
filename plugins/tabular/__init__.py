"""Tabular datamodules: bundled scikit-learn tables, downloaded tables, generic CSV/Parquet."""
