"""Layers stacked as the overlay file system stacks them: what each layer adds, changes, hides.

Unlike dive's trees (bench/layers/efficiency.py), this honours opaque directories
(`.wh..wh..opq`: everything the layers below had in that directory is hidden), and it
remembers which layer every visible file came from, so a file that a later layer deletes
or replaces can be charged to both: its bytes stay in the layer that added it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bench.layers.entries import Entry

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_META_PREFIX = ".wh..wh."  # opaque markers and aufs' hard-link directory


class _Node:
    __slots__ = ("children", "is_dir", "layer", "size")

    def __init__(self, is_dir: bool, size: int, layer: int) -> None:
        self.children: dict[str, _Node] = {}
        self.is_dir = is_dir
        self.size = size
        self.layer = layer


@dataclass(frozen=True)
class Hidden:
    """A file of a lower layer that a later layer deleted or replaced: its bytes remain."""

    path: str
    size_bytes: int
    added_in: int
    hidden_by: int
    how: str  # "deleted" or "overwritten"


@dataclass(frozen=True)
class LayerChanges:
    """Files (directories not counted) a layer added, changed and removed."""

    added: int
    changed: int
    removed: int
    hidden: tuple[Hidden, ...]


class OverlayTree:
    """The image's file system after each layer, with each file's origin layer."""

    def __init__(self) -> None:
        self._root = _Node(is_dir=True, size=0, layer=-1)

    def apply(self, index: int, entries: Sequence[Entry]) -> LayerChanges:
        """Stack layer `index`: its whiteouts first (they hide lower layers), then its files."""
        hidden: list[Hidden] = []
        for entry in entries:
            if WHITEOUT not in entry.path:
                continue
            parent_path, _, name = entry.path.rpartition("/")
            parts = parent_path.split("/") if parent_path else []
            if name == OPAQUE:
                directory = self._get(parts)
                if directory is not None:
                    for child_name, child in directory.children.items():
                        prefix = f"{parent_path}/{child_name}" if parent_path else child_name
                        hidden += _files(child, prefix, index, "deleted")
                    directory.children = {}
            elif name.startswith(WHITEOUT) and not name.startswith(_META_PREFIX):
                parent = self._get(parts)
                target = name[len(WHITEOUT) :]
                if parent is not None and target in parent.children:
                    node = parent.children.pop(target)
                    where = f"{parent_path}/{target}" if parent_path else target
                    hidden += _files(node, where, index, "deleted")
        removed = len(hidden)
        added = changed = 0
        # Directories of this layer by path: tar lists a directory before what is in it.
        directories: dict[str, _Node] = {"": self._root}
        for entry in entries:
            path = entry.path
            if WHITEOUT in path and any(p.startswith(WHITEOUT) for p in path.split("/")):
                continue
            parent_path, _, name = path.rpartition("/")
            parent = directories.get(parent_path)
            if parent is None:
                parts = parent_path.split("/") if parent_path else []
                parent = directories[parent_path] = self._directory(parts, index, hidden)
            existing = parent.children.get(name)
            if entry.is_dir:
                if existing is None or not existing.is_dir:
                    if existing is not None:
                        hidden += _files(existing, path, index, "overwritten")
                    existing = parent.children[name] = _Node(is_dir=True, size=0, layer=index)
                directories[path] = existing  # a directory listed again keeps its contents
                continue
            if existing is None:
                added += 1
            else:
                changed += 1
                hidden += _files(existing, path, index, "overwritten")
                if existing.is_dir:
                    directories = {"": self._root}  # a directory became a file
            parent.children[name] = _Node(is_dir=False, size=entry.size, layer=index)
        return LayerChanges(added, changed, removed, tuple(hidden))

    def _get(self, parts: Sequence[str]) -> _Node | None:
        node: _Node | None = self._root
        for name in parts:
            if node is None:
                return None
            node = node.children.get(name)
        return node

    def _directory(self, parts: Sequence[str], index: int, hidden: list[Hidden]) -> _Node:
        """The directory at `parts`, made (as the overlay would show it) when missing."""
        node = self._root
        for depth, name in enumerate(parts):
            child = node.children.get(name)
            if child is None or not child.is_dir:
                if child is not None:  # a file replaced by a directory
                    hidden += _files(child, "/".join(parts[: depth + 1]), index, "overwritten")
                child = node.children[name] = _Node(is_dir=True, size=0, layer=index)
            node = child
        return node


def _files(node: _Node, path: str, hidden_by: int, how: str) -> Iterator[Hidden]:
    """The files in `node` (itself, or everything under a directory)."""
    if not node.is_dir:
        yield Hidden(path, node.size, node.layer, hidden_by, how)
        return
    for name, child in node.children.items():
        yield from _files(child, f"{path}/{name}", hidden_by, how)
