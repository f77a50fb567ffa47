"""Use cases and the live-room runtime: where the core meets the store, media and notifications."""
