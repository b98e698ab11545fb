"""First-party plugin ``huggingface``: any ``datasets`` dataset as a dmzoo datamodule."""
