"""The live-room runtime: one task per live session, serialising its commands through the core."""
