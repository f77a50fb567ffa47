"""safeclass: a live classroom whose safeguarding protocol is enforced and recorded by the server."""

__version__ = "0.1.0"
