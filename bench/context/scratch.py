"""The build context: what is sent to the engine, and scratch copies for the edit scenario."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.context.listing import context_files
from bench.models import ContextStats

SCRATCH_PREFIX = "dockerfile-bench-"


def measure_context(context_dir: Path, dockerfile: Path) -> ContextStats:
    """Bytes and files sent, and bytes and files `.dockerignore` kept out."""
    sent = context_files(context_dir, dockerfile)
    sent_bytes = sent_files = ignored_bytes = ignored_files = 0
    for root, _dirs, files in os.walk(context_dir):
        for name in files:
            path = Path(root) / name
            relative = str(path.relative_to(context_dir))
            size = path.lstat().st_size
            if relative in sent:
                sent_bytes += size
                sent_files += 1
            else:
                ignored_bytes += size
                ignored_files += 1
    return ContextStats(sent_bytes, sent_files, ignored_bytes, ignored_files)


def scratch_copy(context_dir: Path, run_id: str) -> Path:
    """A private copy of the context: edits happen here, never in the user's tree."""
    scratch_root = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{run_id}-"))
    target = scratch_root / context_dir.name
    shutil.copytree(context_dir, target, symlinks=True)
    return target


def remove_scratch(scratch_context: Path) -> None:
    """Remove a directory made by scratch_copy (and only such a directory)."""
    root = scratch_context.parent
    if root.name.startswith(SCRATCH_PREFIX) and root.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(root, ignore_errors=True)
