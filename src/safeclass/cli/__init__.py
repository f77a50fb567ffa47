"""The `safeclass` command line: what a head teacher or IT admin runs on the server."""
