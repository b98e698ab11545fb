"""A tiny third-party dmzoo plugin (namespace ``acme``) for dmzoo's tests."""
