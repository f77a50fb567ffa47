"""Media: the Janus VideoRoom SFU, driven only by the server (see janus-notes.md).

`janus_process` runs a local Janus as a child process, `janus_client` speaks its WebSocket API,
and `janus_media` implements the app's `Media` port on top of the two.
"""
