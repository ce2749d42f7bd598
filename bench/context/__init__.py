"""What a build sends: the context listing and tar, scratch copies, Dockerfile parsing.

No engine here: the engine package sends what this one lists."""
