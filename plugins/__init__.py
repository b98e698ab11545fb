"""First-party plugins. Each registers through the ``dmzoo`` entry-point group."""
