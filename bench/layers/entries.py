"""What a layer's tar lists, however it was read: the save stream or the engine's storage.

Small on purpose: the storage path (bench/layers/layerdirs.py) needs these records without
the save stream's reader and its decompressors.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# pip's RECORD files, whose text says which distribution installed which file.
RECORD_PATH = re.compile(r"(?:^|/)(?:site|dist)-packages/[^/]+\.dist-info/RECORD$")


class Entry(NamedTuple):
    """One header of a layer's tar: the path (cleaned, no leading slash) and its size."""

    path: str
    size: int
    is_dir: bool


@dataclass
class SavedLayer:
    """What one layer's tar held (built while reading, then only read)."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    size_bytes: int = 0
    symlink_bytes: int = 0
    compressed_bytes: int | None = None
    # pip's RECORD files (path -> text): which distribution installed which file.
    records: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SavedImage:
    """Layers in the image's order, its config (history, working dir) and nothing else."""

    layers: tuple[SavedLayer, ...]
    config: dict[str, Any]


def clean_path(name: str) -> str:
    """A tar member name as dive keys it (Go's path.Clean), without the leading slash."""
    cleaned = posixpath.normpath(name).lstrip("/")
    return "" if cleaned == "." else cleaned
