"""A folder's files as one digest: the tests' check that a run left the user's tree alone."""

from __future__ import annotations

import hashlib
from pathlib import Path


def tree_digest(root: Path, *, without_pycache: bool = False) -> str:
    """sha256 over every file's path (relative to `root`) and bytes, in path order;
    `without_pycache` leaves out __pycache__ folders (the sample app's own tests, which run
    in the same session, may write them into the repository's tree)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not (without_pycache and "__pycache__" in path.parts):
            digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()
