"""Authentication: staff logins and pupil passes, both random tokens stored only as hashes."""
