"""UCI Adult (census income): spec, datamodule, parser and fixture writer."""
