"""The `run`, `smoke` and `report` commands: wire options to the runner and the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import manifest, storage
from bench.commands.init import in_memory_manifest
from bench.engine.buildkit import find_cli
from bench.errors import EXIT_FAILED, EXIT_OK, BenchError
from bench.lab import basemap, standins
from bench.models import SCENARIOS, RunResult
from bench.report import latest as report
from bench.report import merge
from bench.report.charts import write_charts
from bench.report.engines import render_engines
from bench.report.matrix import render_matrix
from bench.report.wheels import summary as wheel_summary
from bench.run import session as benchmark
from bench.run import shard as sharding
from bench.run.connection import engine_choice
from bench.run.measure import RunOptions
from bench.run.progress import ConsoleProgress
from bench.units import format_bytes, format_seconds


def _selected(args: argparse.Namespace) -> tuple[manifest.Manifest, tuple[manifest.Variant, ...]]:
    names = [*args.variants, *args.variant_options]
    if args.dockerfiles:
        if args.manifest is not None:
            raise BenchError("--dockerfile measures without a manifest: drop --manifest")
        loaded = in_memory_manifest(args.dockerfiles, args.contexts)
    elif args.contexts:
        raise BenchError("--context goes with --dockerfile (they pair in order)")
    else:
        loaded = manifest.load(args.manifest or manifest.DEFAULT_MANIFEST)
    return loaded, loaded.select(names)


def run(args: argparse.Namespace) -> int:
    loaded, variants = _selected(args)
    builders = _builders(args.builder)
    versions = _python_versions(args.python)
    options = RunOptions(
        repeat=args.repeat,
        scenarios=tuple(args.scenarios or SCENARIOS),
        compressed=not args.no_compressed,
        layer_source=args.source,
        build_args=_build_args(args.build_args),
        smoke_timeout_seconds=args.smoke_timeout,
        skip_missing_bases=len(versions) > 1,
        lab_bases=basemap.parse(args.lab_bases, standins.REFERENCES),
    )
    if args.buildx_builder is not None and "buildkit" not in builders:
        raise BenchError("--buildx-builder builds with BuildKit: add --builder buildkit")
    engines = _engines(args.engines)
    shard = sharding.parse(args.shard) if args.shard is not None else None
    every = sharding.units((v.name for v in variants), versions, builders)
    mine = _shard_units(shard, every)
    if not mine:
        # Not an error: N larger than the number of units leaves some jobs nothing to do.
        # No results file either: an empty one would only be picked up as the latest run.
        assert shard is not None
        print(f"shard {shard.label}: no work units fall in this shard; nothing to measure")
        return EXIT_OK
    results: list[RunResult] = []
    paths: list[Path] = []
    exit_code = EXIT_OK
    # One run (one results file) per engine, builder and Python version: each is a complete,
    # self-describing measurement; the report lines them up. Engines take their turn one
    # after another: two timed builds at once, even on two engines of one machine, would
    # share its cores and disk, and each would time the other's work.
    for engine in engines:
        for builder in builders:
            for version in versions:
                chosen = tuple(
                    v for v in variants if sharding.WorkUnit(v.name, version or "", builder) in mine
                )
                if not chosen:
                    continue  # another shard measures this builder and Python version
                heading = [
                    *([f"engine {engine}"] if len(engines) > 1 else []),
                    *(
                        [f"builder {builder}, Python {version or 'default'}"]
                        if len(builders) > 1 or len(versions) > 1
                        else []
                    ),
                ]
                if heading:
                    print(f"== {', '.join(heading)} ==", flush=True)
                request = benchmark.RunRequest(
                    manifest=loaded,
                    variants=chosen,
                    options=options,
                    out_dir=args.out,
                    keep_images=args.keep_images,
                    network=args.network,
                    pip_index_url=args.pip_index_url,
                    builder=builder,
                    python_version=version,
                    engine=engine,
                    buildx_builder=args.buildx_builder if builder == "buildkit" else None,
                    wheel_check=not args.no_wheel_check,
                    wheel_index=args.wheel_index,
                    shard=None if shard is None else shard.label,
                    shard_units=len(every),
                )
                progress = ConsoleProgress(total_variants=len(chosen))
                result, path, code = benchmark.run(request, progress)
                results.append(result)
                paths.append(path)
                exit_code = max(exit_code, code)
                print(f"results: {path}")
                _print_summary(result)
    if not args.no_report:
        written = write_reports(results, paths, args.report_dir)
        print("report:  " + ", ".join(str(p) for p in written))
    return exit_code


def _engines(chosen: list[str] | None) -> list[str | None]:
    """The engines to measure on, each once, in the order given; none: the default one."""
    if not chosen:
        return [None]
    return list(dict.fromkeys(engine_choice(text) for text in chosen))


def _shard_units(
    shard: sharding.Shard | None, every: tuple[sharding.WorkUnit, ...]
) -> frozenset[sharding.WorkUnit]:
    """The work units this job measures: all of them without --shard."""
    if shard is None:
        return frozenset(every)
    mine = sharding.select(every, shard)
    if mine:
        print(f"shard {shard.label}: {len(mine)} of {len(every)} work units", flush=True)
    return frozenset(mine)


def _builders(choice: str) -> list[str]:
    if choice == "sdk":
        return ["sdk"]
    if find_cli() is None:
        if choice == "both":
            raise BenchError(
                "--builder both needs the docker CLI for BuildKit, which is not "
                "installed (`apt-get install docker.io`)"
            )
        print(
            "note: no docker CLI for BuildKit; building with the SDK (classic) builder",
            file=sys.stderr,
        )
        return ["sdk"]
    return ["sdk", "buildkit"] if choice == "both" else ["buildkit"]


def _python_versions(text: str | None) -> list[str | None]:
    if not text:
        return [None]  # each Dockerfile's own default
    versions = [part.strip() for part in text.split(",") if part.strip()]
    for version in versions:
        if not all(piece.isdigit() for piece in version.split(".")):
            raise BenchError(f"--python {text!r}: expected versions like 3.11,3.13")
    return list(dict.fromkeys(versions))


def _build_args(pairs: list[str]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise BenchError(f"--build-arg {pair.split('=')[0]!r}: expected NAME=VALUE")
        parsed[name.strip()] = value
    return parsed


def smoke(args: argparse.Namespace) -> int:
    loaded, variants = _selected(args)
    options = RunOptions(repeat=1, scenarios=("cold",), compressed=False, analyse=False)
    request = benchmark.RunRequest(
        manifest=loaded,
        variants=variants,
        options=options,
        out_dir=args.out,
        engine=None if args.engine is None else engine_choice(args.engine),
    )
    result, path, _ = benchmark.run(request, ConsoleProgress(total_variants=len(variants)))
    failed = False
    for variant in result.variants:
        smoke_result = variant.smoke
        if smoke_result is None:
            print(f"{variant.name:12} not tested: {variant.reason}")
            failed = True
        elif smoke_result.ok:
            measured = []
            if smoke_result.ready_seconds is not None:
                measured.append(f"ready after {format_seconds(smoke_result.ready_seconds)}")
            if smoke_result.memory_bytes is not None:
                measured.append(f"{format_bytes(smoke_result.memory_bytes)} memory")
            extra = f" ({', '.join(measured)})" if measured else ""
            print(f"{variant.name:12} ok: {smoke_result.checked}{extra}")
        else:
            failed = True
            print(f"{variant.name:12} FAILED: {smoke_result.checked}: {smoke_result.reason}")
            for line in smoke_result.log_tail[-5:]:
                print(f"{'':14}| {line}")
    print(f"results: {path}")
    return EXIT_FAILED if failed else EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    paths = list(args.results) or [storage.latest_results(Path("reports/results"))]
    runs = [storage.load(path) for path in paths]
    if args.engines:
        written = [write_engines_report(runs, args.report_dir)]
    else:
        written = write_reports(runs, paths, args.report_dir)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def merge_command(args: argparse.Namespace) -> int:
    """One report from several results files, coverage first; exit 1 when shards of a split
    run are missing (the report is still written, with what was measured)."""
    runs = [storage.load(path) for path in args.results]
    found = merge.coverage(runs)
    out: Path = args.out
    written = _write_views(
        runs,
        out,
        out.with_suffix(".csv"),
        chart_prefix=f"{out.stem}-",
        preface=merge.render_coverage(runs, found),
        command="merge",
    )
    for path in written:
        print(f"wrote {path}")
    for split in found.splits:
        if not split.whole:
            print(
                f"incomplete: the run split {split.count} ways covers {split.units_seen} of "
                f"{split.expected_units or 'an unrecorded number of'} work units",
                file=sys.stderr,
            )
    for repeat in found.repeats:
        print(
            f"note: {repeat.unit.variant} ({repeat.unit.builder}, Python "
            f"{repeat.unit.python_version}) measured {len(repeat.runs)} times on one engine: "
            "all shown",
            file=sys.stderr,
        )
    return EXIT_OK if found.complete else EXIT_FAILED


def write_engines_report(runs: list[RunResult], report_dir: Path) -> Path:
    """engines.md, regenerated from the results of one run per setup, in the order given."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "engines.md"
    storage.write_text_atomic(path, render_engines(runs))
    return path


def write_reports(runs: list[RunResult], sources: list[Path], report_dir: Path) -> list[Path]:
    """latest.md and samples.csv, regenerated from results (never edited by hand)."""
    return _write_views(runs, report_dir / "latest.md", report_dir / "samples.csv")


def _write_views(
    runs: list[RunResult],
    markdown: Path,
    csv: Path,
    *,
    chart_prefix: str = "",
    preface: str = "",
    command: str = "report",
) -> list[Path]:
    """The markdown report (with the matrix tables), its CSV, and its charts beside it."""
    report_dir = markdown.parent
    report_dir.mkdir(parents=True, exist_ok=True)
    # PNGs next to the markdown, linked relatively.
    charts = write_charts(runs, report_dir, chart_prefix)
    matrix = render_matrix(runs)
    text = report.render_markdown(runs, chart_paths=charts, preface=preface, command=command)
    storage.write_text_atomic(markdown, text + ("\n" + matrix if matrix else ""))
    report.write_csv(runs, csv)
    return [markdown, csv, *(report_dir / name for name in charts.values())]


def _print_summary(result: RunResult) -> None:
    # Columns as wide as the longest name: users' variants are named after their folders.
    width = max([12, *(len(variant.name) for variant in result.variants)])
    for variant in result.variants:
        size = format_bytes(variant.image.size_bytes) if variant.image else "-"
        status = "ok" if variant.status == "ok" else f"{variant.status}: {variant.reason}"
        print(f"  {variant.name:{width}} {size:>9}  {status}", file=sys.stdout)
        wheels = wheel_summary(result, variant)
        if wheels:
            print(f"  {'':{width}} {'':>9}  {wheels.replace('**', '')}", file=sys.stdout)
