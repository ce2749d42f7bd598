"""Layer analysis: where every byte of an image comes from, read in one pass.

One pass over the save stream (bench/layers/savestream.py), or over the layers' directories
on the engine's disk (bench/layers/layerdirs.py, the same entries without reading file
contents), gives each layer's tar headers and, from the stream, optionally its gzip size;
from those this module derives the layer table, dive's efficiency and wasted bytes
(bench/layers/efficiency.py), size groups
(bench/layers/size_groups.py) and findings (bench/layers/findings.py). Nothing here talks
to Docker: callers pass the stream or the directories.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from bench.layers import findings as findings_module
from bench.layers.efficiency import LayerLeaves, efficiency, layer_leaves
from bench.layers.entries import SavedImage, SavedLayer, clean_path
from bench.layers.history import instruction
from bench.layers.layerdirs import TarWriter, read_layer_dir
from bench.layers.overlay import Hidden, OverlayTree
from bench.layers.size_groups import LayerFiles, group_sizes, layer_files
from bench.models import ImageAnalysis, LayerAnalysis, WastedPath

if TYPE_CHECKING:  # the storage path has no size cache to load (nor its hashing)
    from bench.layers.sizecache import SizeCache

TOP_WASTED = 10


def analyse_stream(
    chunks: Iterable[bytes | memoryview],
    *,
    base_layer_count: int = 0,
    app_dir: str | None = None,
    compress: bool = False,
    workers: int = 2,
    min_finding_bytes: int = findings_module.MIN_BYTES,
    size_cache: SizeCache | None = None,
) -> ImageAnalysis:
    """Analyse a `docker save` stream of one image; `compress` adds the gzip size per layer.

    What each layer gives on its own is worked out as soon as it has streamed, while the
    engine sends the next (the parser keeps up with the engine with time to spare); what
    needs the layers in order (the overlay, dive's merge) is left for the end.
    """
    # Imported here: the storage path needs none of the stream reader's decompressors.
    from bench.layers.savestream import read_save_stream

    facts: dict[str, LayerFacts] = {}

    def learn(layer: SavedLayer) -> None:
        facts[layer.name] = layer_facts(layer)

    with _collector_paused():
        saved = read_save_stream(
            chunks, compress=compress, workers=workers, size_cache=size_cache, on_layer=learn
        )
        return analyse_saved(
            saved,
            base_layer_count=base_layer_count,
            app_dir=app_dir,
            min_finding_bytes=min_finding_bytes,
            facts=facts,
        )


def analyse_layer_dirs(
    directories: Sequence[Path],
    diff_ids: Sequence[str],
    config: dict[str, Any],
    *,
    base_layer_count: int = 0,
    app_dir: str | None = None,
    compressed_sizes: Mapping[str, int] | None = None,
    min_finding_bytes: int = findings_module.MIN_BYTES,
    writer: TarWriter = "moby",
) -> ImageAnalysis:
    """Analyse an image from its layers' directories on the engine's disk (bottom first,
    one per diff id), with the same numbers as from its save stream. `compressed_sizes`
    gives each layer's gzip size by diff id, when every one is known."""
    if len(directories) != len(diff_ids):
        raise ValueError(f"{len(directories)} layer directories for {len(diff_ids)} layers")
    read: dict[str, SavedLayer] = {}
    with _collector_paused():
        for index, (directory, diff_id) in enumerate(zip(directories, diff_ids, strict=True)):
            if diff_id in read:
                continue  # a layer repeated in one image is the same layer, read once
            below = directories[:index][::-1]
            layer = read[diff_id] = read_layer_dir(diff_id, directory, writer, below)
            if compressed_sizes is not None:
                layer.compressed_bytes = compressed_sizes.get(diff_id)
        saved = SavedImage(layers=tuple(read[diff_id] for diff_id in diff_ids), config=config)
        analysis = analyse_saved(
            saved,
            base_layer_count=base_layer_count,
            app_dir=app_dir,
            min_finding_bytes=min_finding_bytes,
        )
    return dataclasses.replace(analysis, source="storage")


class LayerFacts(NamedTuple):
    """What one layer tells on its own, whatever its place in the image."""

    leaves: LayerLeaves  # its leaves, for dive's efficiency
    files: LayerFiles  # its files, sorted by what their paths tell, for the size groups


def layer_facts(layer: SavedLayer) -> LayerFacts:
    return LayerFacts(layer_leaves(layer.entries), layer_files(layer))


@contextmanager
def _collector_paused() -> Iterator[None]:
    # The analysis makes a few hundred thousand small objects and no reference cycles:
    # the cyclic collector's passes over them find nothing and cost ~0.1 s a GB.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def analyse_saved(
    saved: SavedImage,
    *,
    base_layer_count: int = 0,
    app_dir: str | None = None,
    min_finding_bytes: int = findings_module.MIN_BYTES,
    facts: Mapping[str, LayerFacts] | None = None,
) -> ImageAnalysis:
    """The analysis of an image already read; `app_dir` defaults to its WORKDIR. `facts`
    may hold what each layer (by name) told on its own, worked out while it streamed."""
    known = [(facts or {}).get(layer.name) for layer in saved.layers]
    base_count = min(max(base_layer_count, 0), len(saved.layers))
    app = clean_path(app_dir) if app_dir is not None else working_dir(saved.config)
    instructions = layer_instructions(saved.config, len(saved.layers))
    overlay = OverlayTree()
    rows = []
    hidden: list[Hidden] = []
    for index, layer in enumerate(saved.layers):
        changes = overlay.apply(index, layer.entries)
        hidden += changes.hidden
        rows.append(
            LayerAnalysis(
                index=index,
                instruction=instructions[index],
                size_bytes=layer.size_bytes,
                compressed_bytes=layer.compressed_bytes,
                files_added=changes.added,
                files_changed=changes.changed,
                files_removed=changes.removed,
                in_base=index < base_count,
            )
        )
    del overlay  # every path of the image, no longer needed: a lower peak for what follows
    dive = efficiency(
        [layer.entries for layer in saved.layers],
        [fact.leaves if fact is not None else None for fact in known],
    )
    grouping = group_sizes(
        saved.layers, base_count, app, [fact.files if fact is not None else None for fact in known]
    )
    found = findings_module.find(grouping.caches, hidden, base_count, min_finding_bytes)
    compressed = [layer.compressed_bytes for layer in _distinct(saved.layers)]
    return ImageAnalysis(
        size_bytes=sum(layer.size_bytes for layer in saved.layers),
        symlink_bytes=sum(layer.symlink_bytes for layer in saved.layers),
        # A registry stores a repeated layer once.
        compressed_bytes=None
        if any(size is None for size in compressed)
        else sum(size or 0 for size in compressed),
        efficiency=dive.score,
        wasted_bytes=dive.wasted_bytes,
        base_layer_count=base_count,
        app_dir="/" + app if app else "",
        layers=tuple(rows),
        top_wasted=tuple(
            WastedPath(record.path, record.cumulative_bytes, record.layer_count)
            for record in dive.inefficient[:TOP_WASTED]
            if record.cumulative_bytes > 0
        ),
        groups=grouping.groups,
        findings=found,
    )


def _distinct(layers: Sequence[Any]) -> list[Any]:
    seen: set[int] = set()
    distinct = []
    for layer in layers:
        if id(layer) not in seen:
            seen.add(id(layer))
            distinct.append(layer)
    return distinct


def working_dir(config: dict[str, Any]) -> str:
    """The image's WORKDIR (no leading slash), or '' when it is the root or unset."""
    settings = config.get("config") or config.get("Config") or {}
    return clean_path(str(settings.get("WorkingDir") or ""))


def layer_instructions(config: dict[str, Any], layer_count: int) -> list[str]:
    """Each layer's instruction: history entries that made a layer, in order (as dive pairs
    them). `docker import` records none; a missing history gives empty strings."""
    made_layers = [
        str(entry.get("created_by") or "")
        for entry in config.get("history") or []
        if not entry.get("empty_layer")
    ]
    texts = [instruction(created_by) for created_by in made_layers[:layer_count]]
    return texts + [""] * (layer_count - len(texts))


def base_layer_count(image_diff_ids: Sequence[str], base_diff_ids: Sequence[str]) -> int:
    """How many of the image's bottom layers are its base image's (their common prefix)."""
    count = 0
    for ours, theirs in zip(image_diff_ids, base_diff_ids, strict=False):
        if ours != theirs:
            break
        count += 1
    return count
