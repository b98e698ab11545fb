"""Plugins that never finish: dmzoo must give up on them, not wait for ever."""
