"""The web layer: HTTP routes, the room's WebSocket, pages and static files.

A package (not a namespace) so that the import contracts in pyproject.toml can see it.
"""
