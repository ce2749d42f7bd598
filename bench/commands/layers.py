"""`python -m bench layers IMAGE`: what every layer of an image holds, read in one pass.

Text for people (layer table, dive's efficiency and wasted bytes, top wasted paths, size
groups, findings) or `--json`. The base image is the one given with `--base`, or else the
local image whose layers are the longest proper prefix of this one's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Protocol, TextIO

from bench import redaction
from bench.engine import layersource
from bench.engine.localapi import LocalEngine
from bench.errors import EXIT_OK, BenchError
from bench.lab.paths import LabPaths
from bench.layers.analysis import analyse_stream, base_layer_count
from bench.layers.findings import MIN_BYTES, describe
from bench.layers.size_groups import shown_groups
from bench.models import ImageAnalysis
from bench.units import format_bytes, format_percent, format_seconds

if TYPE_CHECKING:
    from bench.layers.sizecache import SizeCache

_TOP_PACKAGES = 10
_INSTRUCTION_CHARS = 90


def run(args: argparse.Namespace) -> int:
    docker_host = _docker_host()
    if args.compare_dive:
        from bench.engine.client import Engine
        from bench.perf import layers as perf_layers

        engine = Engine(docker_host)
        try:
            return perf_layers.run(engine, args.image, args.base, args.repeat)
        finally:
            engine.close()
    started = time.perf_counter()
    size_cache = _size_cache() if args.compressed else None
    analysis: ImageAnalysis | None = None
    # The storage is asked without the Docker SDK (bench/engine/localapi.py says why); the
    # SDK is loaded only for a save.
    local = None if args.source == "save" else LocalEngine.connect(docker_host or _DEFAULT)
    if local is not None:
        image_ids, base_ids, base, guessed = _image_and_base(local, args)
        chosen = layersource.plan(
            local, args.image, args.source, compress=args.compressed, size_cache=size_cache
        )
        print(chosen.line(), file=sys.stderr)
        if chosen.located is not None:
            analysis = layersource.analyse_planned(
                chosen.located,
                chosen.compressed_sizes,
                base_layer_count=base_layer_count(image_ids, base_ids),
                app_dir=args.app_dir,
            )
    if analysis is None:
        from bench.engine.client import Engine

        engine = Engine(docker_host)
        try:
            if local is None:
                image_ids, base_ids, base, guessed = _image_and_base(engine, args)
                chosen = layersource.plan(
                    engine, args.image, args.source, compress=args.compressed, size_cache=None
                )
                print(chosen.line(), file=sys.stderr)
            analysis = analyse_stream(
                engine.save(args.image),
                base_layer_count=base_layer_count(image_ids, base_ids),
                app_dir=args.app_dir,
                compress=args.compressed,
                size_cache=size_cache,
            )
        finally:
            engine.close()
    seconds = time.perf_counter() - started
    # History can hold secrets passed inline to RUN; the user's own image, but the output
    # may be pasted anywhere.
    layers = tuple(
        dataclasses.replace(layer, instruction=redaction.redact(layer.instruction))
        for layer in analysis.layers
    )
    analysis = dataclasses.replace(analysis, layers=layers)
    if args.json:
        document = {
            "image": args.image,
            "base": base,
            "base_guessed": guessed and base is not None,
            "seconds": round(seconds, 3),
            "analysis": dataclasses.asdict(analysis),
        }
        print(json.dumps(document, indent=2))
    else:
        render_text(args.image, base, guessed, seconds, analysis, sys.stdout)
    return EXIT_OK


_DEFAULT = "unix:///var/run/docker.sock"


def _size_cache() -> SizeCache:
    # Imported here: only a compressed size needs it (and its hashing).
    from bench.layers import sizecache

    return sizecache.SizeCache(LabPaths.default().cache_dir / "compressed-layers.json")


def _docker_host() -> str | None:
    explicit = os.environ.get("DOCKER_HOST")
    if explicit:
        return explicit
    from bench.lab import control  # the lab's own engine; heavier, so only when asked

    return control.resolve_docker_host()


class _Images(Protocol):
    def diff_ids(self, reference: str) -> tuple[str, ...] | None: ...

    def tagged_images(self) -> list[str]: ...


def _image_and_base(
    engine: _Images, args: argparse.Namespace
) -> tuple[tuple[str, ...], tuple[str, ...], str | None, bool]:
    """The image's layers, its base's, the base and whether it was guessed."""
    image_ids = engine.diff_ids(args.image)
    if image_ids is None:
        raise BenchError(f"no image {args.image} on the engine (`docker images` lists them)")
    base, guessed = args.base, False
    if base is None:
        base, guessed = guess_base(engine, args.image, image_ids), True
    base_ids = (engine.diff_ids(base) or ()) if base else ()
    if args.base and not base_ids:
        raise BenchError(f"--base {args.base}: no such image on the engine")
    return image_ids, base_ids, base, guessed


def guess_base(engine: _Images, image: str, image_ids: tuple[str, ...]) -> str | None:
    """The tagged local image whose layers are the longest proper prefix of `image`'s."""
    best: tuple[int, str] | None = None
    for candidate in engine.tagged_images():
        if candidate == image:
            continue
        ids = engine.diff_ids(candidate) or ()
        is_prefix = 0 < len(ids) < len(image_ids) and image_ids[: len(ids)] == ids
        if is_prefix and (best is None or len(ids) > best[0]):
            best = (len(ids), candidate)
    return best[1] if best else None


def render_text(
    image: str,
    base: str | None,
    guessed: bool,
    seconds: float,
    analysis: ImageAnalysis,
    out: TextIO,
) -> None:
    """The human view: one screen per image, widest columns last."""

    def line(text: str = "") -> None:
        print(text, file=out)

    compressed = (
        format_bytes(analysis.compressed_bytes)
        if analysis.compressed_bytes is not None
        else "not measured (--compressed)"
    )
    line(f"{image}: {len(analysis.layers)} layers, read and analysed in {format_seconds(seconds)}")
    line(
        f"  size        {format_bytes(analysis.size_bytes)} ({analysis.size_bytes:,} bytes in "
        f"tar headers; the engine adds {analysis.symlink_bytes:,} bytes of symlink targets)"
    )
    line(f"  compressed  {compressed}")
    line(f"  efficiency  {analysis.efficiency * 100:.4f} %  (dive's score)")
    line(
        f"  wasted      {format_bytes(analysis.wasted_bytes)} ({analysis.wasted_bytes:,} bytes, "
        "dive's definition)"
    )
    if base is None:
        line("  base image  none recognised (--base IMAGE to name it)")
    else:
        how = " (guessed: --base to choose)" if guessed else ""
        line(f"  base image  {base}: layers 0-{analysis.base_layer_count - 1}{how}")
    line(f"  app         {analysis.app_dir or 'none (--app-dir PATH)'}")
    line()
    line(
        f"{'#':>3}  {'size':>9}  {'compressed':>10}  {'added':>7}  {'changed':>7}  "
        f"{'removed':>7}  instruction"
    )
    for layer in analysis.layers:
        size = format_bytes(layer.size_bytes)
        packed = "-" if layer.compressed_bytes is None else format_bytes(layer.compressed_bytes)
        text = " ".join(layer.instruction.split()) or "(no history)"
        if len(text) > _INSTRUCTION_CHARS:
            text = text[: _INSTRUCTION_CHARS - 1] + "…"
        mark = "(base) " if layer.in_base else ""
        line(
            f"{layer.index:>3}  {size:>9}  {packed:>10}  {layer.files_added:>7,}  "
            f"{layer.files_changed:>7,}  {layer.files_removed:>7,}  {mark}{text}"
        )
    line()
    line("Top wasted paths (in two or more layers; dive's inefficient files):")
    for item in analysis.top_wasted:
        line(f"  {format_bytes(item.wasted_bytes):>9}  {item.layer_count} layers  {item.path}")
    if not analysis.top_wasted:
        line("  none")
    line()
    line("What is big:")
    total = max(analysis.size_bytes, 1)
    for label, group_bytes, files in shown_groups(analysis.groups, _TOP_PACKAGES):
        share = format_percent(group_bytes / total)
        unit = "file " if files == 1 else "files"
        line(f"  {format_bytes(group_bytes):>9}  {share:>7}  {files:>7,} {unit}  {label}")
    line()
    line("Findings:")
    instructions = [layer.instruction for layer in analysis.layers]
    for finding in analysis.findings:
        line(f"  - {describe(finding, instructions)}")
    if not analysis.findings:
        line(
            f"  none: no pip or apt cache, and nothing deleted or replaced later, of "
            f"{format_bytes(MIN_BYTES)} or more in the layers above the base"
        )
