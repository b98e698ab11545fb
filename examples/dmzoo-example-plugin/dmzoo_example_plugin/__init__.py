"""An example third-party dmzoo plugin (namespace ``example``).

Nothing is imported here: dmzoo loads ``dmzoo_example_plugin.plugin`` through the
entry point, and the datamodule classes only when one is instantiated.
"""

__version__ = "0.2.0"
