"""`python -m bench perf`: run the comparisons and write reports/perf.md and perf.json."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import manifest, storage
from bench.context.dockerfile import base_images
from bench.engine.labels import RUN_ID
from bench.errors import EXIT_OK, BenchError
from bench.manifest import Variant
from bench.perf import layers as perf_layers
from bench.perf import overhead as perf_overhead
from bench.perf import sources as perf_sources
from bench.perf.builds import Builders, Pair, make_big_context, measure_builds
from bench.perf.layers import LayersComparison
from bench.perf.overhead import Overhead
from bench.perf.render import render
from bench.perf.sources import ProcessSample, SourcesComparison
from bench.run.connection import Connection, build_settings, connect
from bench.run.session import new_run_id


def _pair_data(pair: Pair) -> dict[str, object]:
    return asdict(pair) | {
        "ratio": pair.ratio,
        "ratio_interval": pair.ratio_interval(),
        "difference_seconds": pair.difference_seconds,
        "difference_interval": pair.difference_interval(),
    }


def run(args: argparse.Namespace) -> int:
    if args.render_only:
        return render_saved(args.out)
    if args.sources_only:
        return _sources_only(args)
    loaded = manifest.load(args.manifest)
    (variant,) = loaded.select([args.variant])
    (layers_variant,) = loaded.select([args.layers_variant]) if args.layers_variant else (None,)
    connection, run_id, builders = _builders()
    engine = connection.engine

    pairs: list[Pair] = []
    layers: LayersComparison | None = None
    sources: list[SourcesComparison] = []
    try:
        pairs += measure_builds(
            builders,
            variant.context,
            variant.dockerfile,
            variant.edit_file,
            args.repeat,
            run_id,
            progress,
        )
        with tempfile.TemporaryDirectory(prefix=f"dockerfile-bench-{run_id}-") as scratch:
            big = make_big_context(Path(scratch) / "context")
            pairs += measure_builds(
                builders,
                big,
                big / "Dockerfile",
                "",
                args.repeat,
                run_id,
                progress,
                prefix="context-",
            )
        if layers_variant is not None:
            layers = _compare_layers(builders, layers_variant, run_id, args.layers_repeat, progress)
            sources = _compare_sources(builders, layers_variant, run_id, args, progress)
    finally:
        for image in engine.images_with_label(f"{RUN_ID}={run_id}"):
            engine.remove_image(image)
    overhead = _overhead(args)
    provenance: dict[str, object] = {
        "run_id": run_id,
        "engine": asdict(engine.info()),
        "lab_mode": connection.mode,
        "cli": builders.cli,
        "python": platform.python_version(),
    }
    data = perf_data(pairs, layers, overhead, provenance, variant.name, sources)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    storage.write_text_atomic(args.out, json.dumps(data, indent=2) + "\n")
    markdown = render(pairs, layers, overhead, provenance, variant.name, sources)
    storage.write_text_atomic(args.out.with_suffix(".md"), markdown)
    print(markdown)
    return EXIT_OK


def perf_data(
    pairs: list[Pair],
    layers: LayersComparison | None,
    overhead: Overhead | None,
    provenance: dict[str, object],
    variant: str,
    sources: Sequence[SourcesComparison] = (),
) -> dict[str, object]:
    """What perf.json holds: every sample, and what the page shows computed from them."""
    return {
        "schema_version": 3,
        **provenance,
        "variant": variant,
        "pairs": [_pair_data(p) for p in pairs],
        "layers": None
        if layers is None
        else asdict(layers)
        | {
            "through_engine": _pair_data(layers.through_engine),
            "on_archive": _pair_data(layers.on_archive),
        },
        "overhead": None if overhead is None else asdict(overhead) | {"share": overhead.share},
        "sources": [
            asdict(comparison) | {"wall_pair": _pair_data(comparison.wall_pair())}
            for comparison in sources
        ],
    }


def render_saved(path: Path) -> int:
    """perf.md again from perf.json (after a change to the page, not to the numbers)."""
    markdown = render_json(path)
    storage.write_text_atomic(path.with_suffix(".md"), markdown)
    print(markdown)
    return EXIT_OK


def render_json(path: Path) -> str:
    """The perf page for a saved perf.json, as `perf --render-only` writes it next to it."""
    try:
        data = json.loads(path.read_text())
        pairs = [_pair(item) for item in data["pairs"]]
        layers = None
        if data["layers"] is not None:
            saved = data["layers"]
            fields: dict[str, Any] = {
                name: tuple(value) if isinstance(value, list) else value
                for name, value in saved.items()
                if name not in ("through_engine", "on_archive")
            }
            layers = LayersComparison(
                **fields,
                through_engine=_pair(saved["through_engine"]),
                on_archive=_pair(saved["on_archive"]),
            )
        overhead = None
        if data["overhead"] is not None:
            saved = {name: value for name, value in data["overhead"].items() if name != "share"}
            saved["parts"] = tuple((str(part), float(seconds)) for part, seconds in saved["parts"])
            overhead = Overhead(**saved)
        provenance = {
            name: data[name] for name in ("run_id", "engine", "lab_mode", "cli", "python")
        }
        variant = str(data.get("variant", "slim"))  # files before the field: always slim
        sources = [_sources(item) for item in data.get("sources") or []]  # none before 3
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BenchError(f"cannot render {path}: {error}") from error
    return render(pairs, layers, overhead, provenance, variant, sources)


def _sources(saved: dict[str, Any]) -> SourcesComparison:
    # wall_pair is derived, run_id provenance (a --sources-only run has its own).
    fields = {name: value for name, value in saved.items() if name not in ("wall_pair", "run_id")}
    for contender in ("storage", "save", "dive"):
        fields[contender] = tuple(ProcessSample(**sample) for sample in fields[contender])
    return SourcesComparison(**fields)


def _compare_sources(
    builders: Builders,
    variant: Variant,
    run_id: str,
    args: argparse.Namespace,
    progress: perf_layers.Say,
) -> list[SourcesComparison]:
    """Ours from storage, ours through docker save and dive, on the variant's image (built
    once, untimed; cached if the layer comparison built it) and on a generated large one."""
    if args.sources_repeat == 0:
        return []
    tag = f"dockerfile-bench/perf-layers:{run_id}"
    builders.ours(variant.context, variant.dockerfile, tag, False)
    bases = base_images(variant.dockerfile, builders.build_args)
    found = [
        perf_sources.compare_sources(
            builders.engine,
            tag,
            f"the {variant.name} variant",
            bases[-1] if bases else None,
            args.sources_repeat,
            progress,
        )
    ]
    if args.large_files > 0:
        with perf_sources.generated_image(
            builders.engine, run_id, args.large_files, args.large_bytes, progress
        ) as large:
            found.append(
                perf_sources.compare_sources(
                    builders.engine, large, "a generated image", None, args.sources_repeat, progress
                )
            )
    return found


def _sources_only(args: argparse.Namespace) -> int:
    """Measure the layer sources alone and put them into the perf page at --out, whose
    other sections keep the numbers of the run that measured them."""
    try:
        data = json.loads(args.out.read_text())
    except (OSError, ValueError) as error:
        raise BenchError(f"--sources-only needs a perf.json at {args.out}: {error}") from None
    loaded = manifest.load(args.manifest)
    (variant,) = loaded.select([args.layers_variant or "full"])
    connection, run_id, builders = _builders()
    engine = connection.engine

    try:
        sources = _compare_sources(builders, variant, run_id, args, progress)
    finally:
        for image in engine.images_with_label(f"{RUN_ID}={run_id}"):
            engine.remove_image(image)
    data["schema_version"] = 3
    measured = {comparison.label for comparison in sources}
    # An image not measured this time (`--large-files 0`) keeps its earlier numbers.
    kept = [item for item in data.get("sources") or [] if item.get("label") not in measured]
    data["sources"] = [
        asdict(comparison) | {"wall_pair": _pair_data(comparison.wall_pair()), "run_id": run_id}
        for comparison in sources
    ] + kept
    storage.write_text_atomic(args.out, json.dumps(data, indent=2) + "\n")
    markdown = render_json(args.out)
    storage.write_text_atomic(args.out.with_suffix(".md"), markdown)
    print(markdown)
    return EXIT_OK


def _pair(saved: dict[str, object]) -> Pair:
    ours, theirs = saved["ours_seconds"], saved["theirs_seconds"]
    if not isinstance(ours, list) or not isinstance(theirs, list):
        raise TypeError("a pair's samples are not lists")
    return Pair(str(saved["scenario"]), tuple(map(float, ours)), tuple(map(float, theirs)))


def _compare_layers(
    builders: Builders, variant: Variant, run_id: str, repeat: int, progress: perf_layers.Say
) -> LayersComparison:
    """Build the variant once (untimed), then time our analysis against dive's on it."""
    tag = f"dockerfile-bench/perf-layers:{run_id}"
    progress(f"layers: building {variant.name} once to analyse it")
    builders.ours(variant.context, variant.dockerfile, tag, False)
    bases = base_images(variant.dockerfile, builders.build_args)
    return perf_layers.compare(builders.engine, tag, bases[-1] if bases else None, repeat, progress)


def _overhead(args: argparse.Namespace) -> Overhead | None:
    if args.overhead_from is not None:
        return perf_overhead.from_run(storage.load(args.overhead_from))
    if args.skip_overhead:
        return None
    return perf_overhead.measure(args.overhead_run_args.split())


def _builders() -> tuple[Connection, str, Builders]:
    """The engine's connection, a new run id, and both builders, building as `bench run`
    would with no options."""
    connection = connect()
    engine = connection.engine
    run_id = new_run_id()
    settings = build_settings(connection)
    builders = Builders(
        engine,
        engine.docker_host or "unix:///var/run/docker.sock",
        settings.build_args,
        settings.network,
        run_id,
    )
    return connection, run_id, builders


def progress(text: str) -> None:
    print(f"perf: {text}", file=sys.stderr, flush=True)
