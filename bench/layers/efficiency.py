"""dive's efficiency score and wasted bytes, with exactly dive's definitions.

The definitions are dive's (github.com/wagoodman/dive, read at commit d6c6919, v0.13.x):
`Efficiency` in dive/filetree/efficiency.go and `Analyze` in dive/image/analysis.go, over
the trees that `processLayerTar` (dive/image/docker/image_archive.go) and `AddPath`,
`Stack` and `StackTreeRange` (dive/filetree/file_tree.go) build. In words:

- Each layer is a tree of its tar's paths; missing parent directories are added as
  empty nodes. A path with a `.wh..wh..` component (an opaque-directory marker) is left out.
- Only leaves of a layer's tree count (a directory with children in that layer does not).
  Each leaf adds its size to its path's record; a whiteout `.wh.NAME` counts under NAME
  and weighs what NAME was in the layers below, stacked: the sum of the sizes under it
  if it was a directory, and 0 if it was a file.
- A path recorded in two or more layers is inefficient: wasted bytes are the sum of ALL
  its records (the copy that is still visible included), summed over such paths.
- efficiency = sum over paths of its smallest record / sum over paths of all records
  (1.0 for an image without bytes).

Two quirks are kept, so the numbers match dive's to the byte: a whiteout whose target is
not in the layers below ends dive's walk of that layer (its leaves after it, in name
order, are not counted), and leaves behind a record with a smallest size of -1. This code
is written from that reading; no dive code is copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.layers.entries import Entry

_WHITEOUT = ".wh."
_OPAQUE_PREFIX = ".wh..wh.."


class _Node:
    __slots__ = ("children", "is_dir", "size")

    def __init__(self, is_dir: bool = False, size: int = 0) -> None:
        self.children: dict[str, _Node] = {}
        self.is_dir = is_dir
        self.size = size


class _Tree:
    """A tree as dive keeps one: nodes by name, each with the payload of its last header.

    `nodes` also indexes a layer's tree by path, so its leaves are found without a walk.
    """

    def __init__(self) -> None:
        self.root = _Node(is_dir=True)
        self.nodes: dict[str, _Node] = {"": self.root}

    @classmethod
    def of_layer(cls, entries: Sequence[Entry]) -> _Tree:
        tree = cls()
        for entry in entries:
            node = tree._node(entry.path)
            if node is not None:
                node.is_dir = entry.is_dir
                node.size = entry.size
        return tree

    def _node(self, path: str) -> _Node | None:
        """The node at `path`, made (with its parents) if missing; None for a path through
        an opaque marker, which dive never adds (the parents made on the way stay)."""
        node = self.nodes.get(path)
        if node is not None:
            return node
        parent_path, _, name = path.rpartition("/")
        parent = self._node(parent_path)
        if parent is None or name.startswith(_OPAQUE_PREFIX):
            return None
        node = parent.children[name] = self.nodes[path] = _Node()
        return node

    def get(self, parts: Sequence[str]) -> _Node | None:
        node: _Node | None = self.root
        for name in parts:
            node = node.children.get(name) if node is not None else None
        return node

    def stack(self, upper: _Tree) -> None:
        """Lay `upper` on this tree: whiteouts remove, everything else replaces payloads."""
        _merge(self.root, upper.root)


def _merge(lower: _Node, upper: _Node) -> None:
    # dive's Stack visits the upper tree's nodes one by one; merging node by node ends in
    # the same tree (no layer both deletes a path and adds under it).
    for name, child in upper.children.items():
        if name.startswith(_WHITEOUT):
            lower.children.pop(name[len(_WHITEOUT) :], None)
            continue
        target = lower.children.get(name)
        if target is None:
            target = lower.children[name] = _Node()
        target.is_dir = child.is_dir
        target.size = child.size
        _merge(target, child)


def _subtree_bytes(node: _Node) -> int:
    return node.size + sum(_subtree_bytes(child) for child in node.children.values())


@dataclass(frozen=True)
class PathRecord:
    """One path's records across layers: dive's EfficiencyData."""

    path: str
    cumulative_bytes: int
    minimum_bytes: int
    layer_count: int


@dataclass(frozen=True)
class Efficiency:
    """dive's score, wasted bytes and inefficient paths (largest first)."""

    score: float
    wasted_bytes: int
    inefficient: tuple[PathRecord, ...]


def efficiency(
    layers: Sequence[Sequence[Entry]], leaves: Sequence[LayerLeaves | None] | None = None
) -> Efficiency:
    """dive's Efficiency over layers given bottom first, each as its tar's headers.

    `leaves` may hold each layer's `layer_leaves`, worked out while the image streamed.
    """
    records: dict[str, list[int]] = {}  # path -> [cumulative, minimum, count]
    stacked = _Stacked(layers)
    for index, entries in enumerate(layers):
        known = leaves[index] if leaves is not None and index < len(leaves) else None
        layer = known if known is not None else layer_leaves(entries)
        if layer.has_whiteout:
            _count_whiteout_layer(layer.leaves, stacked.below(index), records)
        else:
            _count(layer.leaves, records)
    minimum = sum(record[1] for record in records.values())
    discovered = sum(record[0] for record in records.values())
    inefficient = sorted(
        (
            PathRecord("/" + path, record[0], record[1], record[2])
            for path, record in records.items()
            if record[2] >= 2
        ),
        key=lambda record: (-record.cumulative_bytes, record.path),
    )
    return Efficiency(
        score=1.0 if discovered == 0 else minimum / discovered,
        wasted_bytes=sum(record.cumulative_bytes for record in inefficient),
        inefficient=tuple(inefficient),
    )


@dataclass(frozen=True)
class LayerLeaves:
    """The leaves of one layer's tree as dive builds it: (path, size of its last header).

    A path is a leaf unless another path of the same layer lies under it: no tree is
    needed to tell, only the set of every path's ancestors. Order-free, so it can be
    worked out for each layer as it streams, in whatever order the layers come.
    """

    leaves: tuple[tuple[str, int], ...]
    has_whiteout: bool


def layer_leaves(entries: Sequence[Entry]) -> LayerLeaves:
    sizes: dict[str, int] = {}
    for path, size, _is_dir in entries:
        if _OPAQUE_PREFIX in path:
            parts = path.split("/")
            cut = next((i for i, part in enumerate(parts) if part.startswith(_OPAQUE_PREFIX)), -1)
            if cut >= 0:
                # dive adds the parents on the way to the marker, never the marker.
                for depth in range(1, cut + 1):
                    sizes.setdefault("/".join(parts[:depth]), 0)
                continue
        sizes[path] = size
    ancestors: set[str] = set()
    for path in sizes:
        parent = path.rpartition("/")[0]
        # Once a parent is known, so are all of its own (they were added with it).
        while parent and parent not in ancestors:
            ancestors.add(parent)
            parent = parent.rpartition("/")[0]
    leaves = tuple((path, size) for path, size in sizes.items() if path not in ancestors)
    has_whiteout = any(
        _WHITEOUT in path and path.rpartition("/")[2].startswith(_WHITEOUT) for path, _ in leaves
    )
    return LayerLeaves(leaves, has_whiteout)


class _Stacked:
    """The layers below one, stacked as dive's StackTreeRange stacks them (a copy of layer
    0, then layers 0 .. n-1 laid on it), built only when a whiteout needs them (most
    images have none) and then extended layer by layer."""

    def __init__(self, layers: Sequence[Sequence[Entry]]) -> None:
        self._layers = layers
        self._tree: _Tree | None = None
        self._stacked = 0  # how many layers are laid on the copy of layer 0

    def below(self, index: int) -> _Tree:
        if index == 0:
            # dive stacks the layers below for a whiteout; for layer 0 that is layer 0 itself.
            return _Tree.of_layer(self._layers[0])
        if self._tree is None:
            self._tree = _Tree.of_layer(self._layers[0])
        while self._stacked < index:
            self._tree.stack(_Tree.of_layer(self._layers[self._stacked]))
            self._stacked += 1
        return self._tree


def _count(sizes: Iterable[tuple[str, int]], records: dict[str, list[int]]) -> None:
    for path, size in sizes:
        record = records.get(path)
        if record is None:
            records[path] = [size, size, 1]
            continue
        record[0] += size
        if record[1] < 0 or size < record[1]:
            record[1] = size
        record[2] += 1


def _count_whiteout_layer(
    leaves: Sequence[tuple[str, int]], below: _Tree, records: dict[str, list[int]]
) -> None:
    sizes, missing = _leaf_sizes(leaves, below)
    if missing:
        # dive's visitor fails at a whiteout whose target the layers below lack, which
        # ends its walk of this layer: only what comes before it, in dive's order (by
        # name, children before parents) counts. Rare, so sorted only then.
        sizes, _ = _leaf_sizes(sorted(leaves, key=lambda leaf: leaf[0].split("/")), below)
    failed = sizes.pop() if sizes and sizes[-1][1] < 0 else None
    _count(sizes, records)
    if failed is not None:
        # The failed whiteout (always last): its record exists, with nothing counted.
        records.setdefault(failed[0], [0, -1, 0])


def _leaf_sizes(
    leaves: Sequence[tuple[str, int]], below: _Tree
) -> tuple[list[tuple[str, int]], bool]:
    """(path, bytes) per leaf, a whiteout counted as what it hides; stops at a whiteout
    whose target is missing below (listed with -1), and says whether it did."""
    sizes: list[tuple[str, int]] = []
    for path, size in leaves:
        parent, _, name = path.rpartition("/")
        if not name.startswith(_WHITEOUT):
            sizes.append((path, size))
            continue
        target = f"{parent}/{name[len(_WHITEOUT) :]}" if parent else name[len(_WHITEOUT) :]
        previous = below.get(target.split("/"))
        if previous is None:
            sizes.append((target, -1))
            return sizes, True
        sizes.append((target, _subtree_bytes(previous) if previous.is_dir else 0))
    return sizes, False
