"""What a build sends: the files of the context after `.dockerignore`, and the context as a
tar stream, decided as docker-py's `APIClient.build(path=...)` decides them."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

# docker-py's own `.dockerignore` matcher: a pure function over the tree, no engine involved,
# so the listing agrees with what docker-py and the CLI would send.
from docker.utils.build import exclude_paths

from bench.context.tar import tar_stream


def context_upload(context_dir: Path, dockerfile: Path) -> tuple[Iterator[bytes], str]:
    """The context as a tar stream, and the Dockerfile's name within it.

    What goes in follows docker-py's `APIClient.build(path=...)` exactly; only the upload
    differs: streamed as it is made, where docker-py first writes a temporary file.
    """
    root = context_dir.absolute()
    files, patterns, name, inside = listing(root, dockerfile)
    if inside:
        return tar_stream(root, files), name
    ignore_text = "\n".join((patterns or [".dockerignore"]) + [name])
    text = absolute_dockerfile(root, dockerfile).read_text()
    extra = {".dockerignore": ignore_text.encode(), name: text.encode()}
    return tar_stream(root, files, extra), name


def context_files(context_dir: Path, dockerfile: Path) -> set[str]:
    """Paths (relative to the context) that the engine receives, after `.dockerignore`."""
    return set(listing(context_dir.absolute(), dockerfile)[0])


def listing(root: Path, dockerfile: Path) -> tuple[list[str], list[str], str, bool]:
    """(the files sent, in the order sent; the `.dockerignore` patterns; the Dockerfile's
    name in the context; whether it lies there), as docker-py decides them."""
    ignore = root / ".dockerignore"
    lines = (line.strip() for line in ignore.read_text().splitlines()) if ignore.is_file() else ()
    patterns = [line for line in lines if line and not line.startswith("#")]
    # A relative Dockerfile path is taken from the context.
    name = os.path.relpath(absolute_dockerfile(root, dockerfile), root)
    inside = not name.startswith("..")
    if not inside:
        # It travels inside the context under a random name, which the `.dockerignore`
        # sent with it excludes, as docker-py and the CLI both do.
        name = f".dockerfile.{random.getrandbits(160):x}"
    # exclude_paths appends to the list it is given: a copy keeps `patterns` as read.
    files = sorted(exclude_paths(str(root), list(patterns), dockerfile=name))
    return files, patterns, name, inside


def absolute_dockerfile(root: Path, dockerfile: Path) -> Path:
    return dockerfile if dockerfile.is_absolute() else root / dockerfile
