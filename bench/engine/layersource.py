"""Which way an image's layers are read: from the engine's storage, or through `docker save`.

Both give the same numbers (tests/docker/test_layer_sources.py holds them to it); the
storage is read at the speed of file-system metadata, while a save makes the engine read
and send every byte of every layer. `auto` takes the storage when this process can read
it, and says in one line which way it went and why.

The compressed size needs the bytes of the engine's tar of each layer, which the directory
does not give to the byte (tar headers carry times and owners the walk does not rebuild).
Sizes already measured are known by layer digest (bench/layers/sizecache.py); when a layer's
is not, `auto` reads that image through `docker save`, which measures it exactly, and
`--source storage` leaves it unmeasured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.engine import layerpaths
from bench.errors import BenchError
from bench.layers.analysis import analyse_layer_dirs
from bench.layers.layerdirs import LayerDirError
from bench.models import AnalysisSource, ImageAnalysis, SourceChoice

if TYPE_CHECKING:  # loaded only with --compressed: it hashes (OpenSSL) and reads a file
    from bench.layers.sizecache import SizeCache


@dataclass(frozen=True)
class SourcePlan:
    """How one image's layers will be read, and why."""

    source: AnalysisSource
    reason: str
    located: layerpaths.LayerDirs | None = None
    compressed_sizes: dict[str, int] | None = None

    def line(self) -> str:
        """The one line a user sees."""
        where = "the engine's storage" if self.source == "storage" else "docker save"
        return f"layers: read from {where} ({self.reason})"


def plan(
    engine: layerpaths.StorageEngine,
    reference: str,
    choice: SourceChoice,
    *,
    compress: bool,
    size_cache: SizeCache | None,
) -> SourcePlan:
    """The way `choice` allows for `reference`; BenchError when `storage` was asked for
    and cannot be read."""
    if choice == "save":
        return SourcePlan("save", "--source save")
    if compress and choice == "auto":
        # Decided before the layers are looked for: on the containerd store that asks ctr.
        unknown = _without_size(engine.diff_ids(reference) or (), size_cache)
        if unknown:
            return _for_compressed_sizes(unknown)
    try:
        located = layerpaths.locate(engine, reference)
    except layerpaths.StorageUnreadable as error:
        if choice == "storage":
            raise BenchError(f"--source storage: {error}") from None
        return SourcePlan("save", str(error))
    why = "--source storage" if choice == "storage" else "the engine's storage is readable"
    if not compress:
        return SourcePlan("storage", why, located)
    sizes = {
        diff_id: size
        for diff_id in located.diff_ids
        if size_cache is not None and (size := size_cache.by_diff_id(diff_id)) is not None
    }
    unknown = _without_size(located.diff_ids, size_cache)
    if unknown == 0:
        return SourcePlan("storage", f"{why}; compressed sizes known", located, sizes)
    if choice == "storage":
        return SourcePlan(
            "storage",
            f"{why}; {unknown} layer(s) have no compressed size yet: left unmeasured",
            located,
            sizes,
        )
    return _for_compressed_sizes(unknown)


def _without_size(diff_ids: Sequence[str], size_cache: SizeCache | None) -> int:
    """How many distinct layers have no compressed size recorded."""
    return sum(
        1
        for diff_id in set(diff_ids)
        if size_cache is None or size_cache.by_diff_id(diff_id) is None
    )


def _for_compressed_sizes(unknown: int) -> SourcePlan:
    return SourcePlan(
        "save",
        f"{unknown} layer(s) have no compressed size yet, which needs the engine's tar of "
        "them; --no-compressed reads the storage",
    )


def analyse_planned(
    located: layerpaths.LayerDirs,
    compressed_sizes: dict[str, int] | None,
    *,
    base_layer_count: int,
    app_dir: str | None = None,
) -> ImageAnalysis:
    """The analysis of an image whose layers were located on the engine's disk."""
    try:
        return analyse_layer_dirs(
            located.directories,
            located.diff_ids,
            dict(located.config),
            base_layer_count=base_layer_count,
            app_dir=app_dir,
            compressed_sizes=compressed_sizes,
            writer=located.writer,
        )
    except LayerDirError as error:
        # A layer deleted while it was read (another user's `docker rmi`, say).
        raise BenchError(f"the engine's storage changed while it was read: {error}") from None
