"""safeclass: a live classroom whose safeguarding protocol the server enforces and records."""

__version__ = "0.1.0"
