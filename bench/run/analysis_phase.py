"""A run's layer analyses, after all its timed work: each image's `docker save` is staged
by the engine while the one before is read, and spent images are deleted meanwhile.

Why after, not between a variant's builds: Engine 20.10 writes a whole `docker save` to a
temporary directory before it sends the first byte. That staging is most of an analysis
and keeps about one core busy inside the engine while our process waits; reading the
stream and gzipping new layers then keeps our cores busy while the engine waits. One image
at a time leaves half the machine idle; all of them in a row can overlap the staging of
one image with the reading of the one before. Measured on the lab's five variants (2 cores,
base layers' compressed sizes known): 34.0 s one image after another, 27.5 s overlapped.
Deleting images overlaps both, but it is not free: on the lab's ext4 volume it is kernel
time, about 40 us a file (a pip layer has some 14,000), so it competes for the same two
cores and gains only where one is idle (15 images: 34.3 s deleted after, 32.6 s meanwhile).
Nothing here runs while a timed build does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from bench.errors import BenchError
from bench.models import ImageAnalysis, Layer, VariantResult
from bench.run import phases
from bench.run.measure import PendingAnalysis, Progress, Workbench


def analyse_pending(
    bench: Workbench,
    pending: Sequence[PendingAnalysis],
    *,
    compressed: bool,
    keep_images: bool,
    on_analysis: Callable[[PendingAnalysis, ImageAnalysis | None], None],
    on_crash: Callable[[PendingAnalysis, Exception], None],
    progress: Progress,
    clock: phases.PhaseClock,
) -> None:
    """Analyse every pending image in order; `on_analysis` gets each result as it comes,
    `on_crash` an unexpected error of one analysis (the others go on).

    Deleted meanwhile, in one background thread (the engine deletes one image at a time:
    two deletions at once took 3.04 s, one after the other 3.05 s; and two images sharing
    untagged parents, deleted at once, could each leave those parents to the other): without
    `keep_images`, every image of the run that no analysis needs, then each analysed image
    once read; with it, only the superseded cold builds.
    """
    needed = {item.image_id for item in pending}
    if keep_images:
        spent = [image for item in pending for image in item.superseded if image not in needed]
    else:
        spent = [image for image in bench.built_images() if image not in needed]
    deleting_seconds = 0.0

    def delete(images: list[str]) -> None:
        nonlocal deleting_seconds
        started = time.perf_counter()
        bench.discard(images)
        deleting_seconds += time.perf_counter() - started

    with ThreadPoolExecutor(1, "discard") as discarder:
        deletions: list[Future[None]] = [discarder.submit(delete, spent)] if spent else []
        for index, item in enumerate(pending):
            following = pending[index + 1].image_id if index + 1 < len(pending) else None
            progress.note(f"{item.variant}: reading the image's layers")
            started = time.perf_counter()
            try:
                with clock.phase(phases.ANALYSIS):
                    analysis = bench.analyse_image(
                        item.image_id, item.base, compressed=compressed, next_image=following
                    )
            except BenchError:
                raise  # the engine went away, or similar: the run stops
            except Exception as error:  # a bug of ours: that variant's row says so
                on_crash(item, error)
            else:
                on_analysis(item, analysis)
            progress.note(f"{item.variant}: layers read in {time.perf_counter() - started:.1f} s")
            if not keep_images:
                deletions.append(discarder.submit(delete, [item.image_id]))
        with clock.phase(phases.CLEANUP):
            for deletion in deletions:
                deletion.result()  # an engine that went away raises here
    if deletions:
        progress.note(f"spent images deleted meanwhile: {deleting_seconds:.1f} s of engine time")


def with_analysis(
    variant: VariantResult, analysis: ImageAnalysis | None, *, keep_tables: bool
) -> VariantResult:
    """The variant's row with its image's compressed size and (with `keep_tables`, when the
    run asked for the analysis and not only the size) the layer tables."""
    if variant.image is None:
        return variant
    image = replace(
        variant.image,
        compressed_bytes=analysis.compressed_bytes if analysis else None,
        analysis=analysis if keep_tables else None,
    )
    if analysis is not None and image.engine_size_kind == "content":
        # The engine's Size counts stored content here: the unpacked size is the layers'
        # contents, exactly as the analysis read them (what a graph-driver engine's Size
        # counts: the tar headers' sizes and the symlinks' target lengths).
        image = replace(
            image,
            size_bytes=analysis.size_bytes + analysis.symlink_bytes,
            layers=layer_sizes_from(image.layers, analysis),
        )
    return replace(variant, image=image)


def layer_sizes_from(layers: tuple[Layer, ...], analysis: ImageAnalysis) -> tuple[Layer, ...]:
    """The history's layers with the analysis's byte sizes, where the two line up.

    On the containerd store the history gives each layer's disk usage in 4 KiB blocks (a
    WORKDIR's empty directory counts 8 kB); the analysis has each layer's exact bytes, as
    a graph-driver engine's history gives them. The history entries that have a layer are
    those with a size, in the same order as the image's layers.
    """
    with_content = [index for index, layer in enumerate(layers) if layer.size_bytes > 0]
    if len(with_content) != len(analysis.layers):
        return layers  # they do not line up: keep what the engine said
    exact = dict(zip(with_content, analysis.layers, strict=True))
    return tuple(
        replace(layer, size_bytes=exact[index].size_bytes) if index in exact else layer
        for index, layer in enumerate(layers)
    )
