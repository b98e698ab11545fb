"""The ``dmzoo`` command line. Each module here adds one group of subcommands."""
