"""The fast efficiency (leaves without trees, stacking only for whiteouts) against a plain
model of dive's walk: every layer's whole tree, the layers below always stacked.

The model is what bench/layers/efficiency.py computed before the fast path, itself checked
against dive 0.13.1 (tests/unit/test_layers.py, tests/docker/test_layers.py). Random
layers, from a seeded generator, use few names so that paths meet: whiteouts of files
and of directories, whiteouts of paths that never existed, opaque markers, parents that
only appear through their children, and the same path twice in one layer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from bench.layers.efficiency import _leaf_sizes, _Tree, efficiency, layer_leaves
from bench.layers.entries import Entry

_NAMES = ("a", "b", "c", "d")
_ODD_NAMES = (".wh.a", ".wh.c", ".wh..wh..opq", ".wh..wh..plnk")


def _model(layers: Sequence[Sequence[Entry]]) -> tuple[float, int, list[tuple[str, int, int]]]:
    records: dict[str, list[int]] = {}
    stacked: _Tree | None = None
    for entries in layers:
        tree = _Tree.of_layer(entries)
        below = stacked if stacked is not None else tree
        leaves = [
            (path, node.size) for path, node in tree.nodes.items() if path and not node.children
        ]
        sizes, missing = _leaf_sizes(leaves, below)
        if missing:
            sizes, _ = _leaf_sizes(sorted(leaves, key=lambda leaf: leaf[0].split("/")), below)
        for path, size in sizes:
            record = records.setdefault(path, [0, -1, 0])
            if size < 0:
                continue
            record[0] += size
            if record[1] < 0 or size < record[1]:
                record[1] = size
            record[2] += 1
        if stacked is None:
            stacked = _Tree.of_layer(entries)
        stacked.stack(tree)
    minimum = sum(record[1] for record in records.values())
    discovered = sum(record[0] for record in records.values())
    inefficient = sorted(
        ("/" + path, record[0], record[2]) for path, record in records.items() if record[2] >= 2
    )
    wasted = sum(cumulative for _, cumulative, _ in inefficient)
    return (1.0 if discovered == 0 else minimum / discovered), wasted, inefficient


def _random_layers(seed: int) -> list[list[Entry]]:
    rng = random.Random(seed)
    layers: list[list[Entry]] = []
    for _ in range(rng.randint(1, 5)):
        entries = []
        for _ in range(rng.randint(0, 9)):
            earlier = [entry.path for layer in layers for entry in layer]
            if earlier and rng.random() < 0.3:
                # Delete something that is there (or was, or is only a parent of it).
                parent, _, name = rng.choice(earlier).rpartition("/")
                parent = parent if rng.random() < 0.7 else parent.rpartition("/")[0]
                name = name if parent else name.rpartition("/")[2]
                path = f"{parent}/.wh.{name}" if parent else f".wh.{name}"
            else:
                path = "/".join(
                    rng.choice(_ODD_NAMES if rng.random() < 0.1 else _NAMES)
                    for _ in range(rng.randint(1, 3))
                )
            is_dir = rng.random() < 0.3
            entries.append(Entry(path, 0 if is_dir else rng.randint(0, 100), is_dir))
        layers.append(entries)
    return layers


@pytest.mark.parametrize("seed", range(400))
def test_the_fast_path_gives_the_models_numbers(seed: int) -> None:
    layers = _random_layers(seed)
    score, wasted, inefficient = _model(layers)
    result = efficiency(layers)
    assert result.score == score
    assert result.wasted_bytes == wasted
    assert sorted((r.path, r.cumulative_bytes, r.layer_count) for r in result.inefficient) == (
        inefficient
    )


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_leaves_worked_out_while_streaming_give_the_same_numbers(seed: int) -> None:
    layers = _random_layers(seed)
    streamed = [layer_leaves(entries) for entries in layers]
    assert efficiency(layers, streamed) == efficiency(layers)


def test_a_layer_without_whiteouts_never_builds_a_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("a tree was built")

    monkeypatch.setattr(_Tree, "of_layer", classmethod(refuse))
    layers = [[Entry("a", 0, True), Entry("a/x", 10, False)], [Entry("a/x", 4, False)]]
    result = efficiency(layers)
    assert (result.wasted_bytes, result.score) == (14, 4 / 14)  # a/x: 10 + 4, at least 4


def test_leaves_are_paths_with_nothing_under_them_in_their_layer() -> None:
    leaves = layer_leaves(
        [
            Entry("usr", 0, True),
            Entry("usr/lib/x", 5, False),  # usr/lib only appears through its child
            Entry("etc/.wh..wh..opq", 0, False),  # etc is added on the way, as a leaf
            Entry("usr/lib/x", 7, False),  # the last header wins
        ]
    )
    assert sorted(leaves.leaves) == [("etc", 0), ("usr/lib/x", 7)]
    assert not leaves.has_whiteout
    assert layer_leaves([Entry("a/.wh.b", 0, False)]).has_whiteout
