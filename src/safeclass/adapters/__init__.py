"""The real things behind the app's ports: the database store, and later media, mail and auth."""
