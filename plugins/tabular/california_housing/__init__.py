"""California housing (StatLib): spec, datamodule, parser and fixture writer."""
