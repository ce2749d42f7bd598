"""The `run`, `smoke` and `report` commands: wire options to the runner and the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import benchmark, manifest, report, storage
from bench.errors import EXIT_FAILED, EXIT_OK, BenchError
from bench.models import SCENARIOS, RunResult
from bench.progress import ConsoleProgress
from bench.runner import RunOptions
from bench.units import format_bytes, format_seconds


def _selected(args: argparse.Namespace) -> tuple[manifest.Manifest, tuple[manifest.Variant, ...]]:
    loaded = manifest.load(args.manifest)
    return loaded, loaded.select([*args.variants, *args.variant_options])


def run(args: argparse.Namespace) -> int:
    loaded, variants = _selected(args)
    options = RunOptions(
        repeat=args.repeat,
        scenarios=tuple(args.scenarios or SCENARIOS),
        compressed=not args.no_compressed,
        build_args=_build_args(args.build_args),
        smoke_timeout_seconds=args.smoke_timeout,
    )
    request = benchmark.RunRequest(
        manifest=loaded,
        variants=variants,
        options=options,
        out_dir=args.out,
        keep_images=args.keep_images,
        network=args.network,
        pip_index_url=args.pip_index_url,
    )
    result, path, exit_code = benchmark.run(request, ConsoleProgress(total_variants=len(variants)))
    print(f"results: {path}")
    if not args.no_report:
        written = write_reports([result], [path], args.report_dir)
        print("report:  " + ", ".join(str(p) for p in written))
    _print_summary(result)
    return exit_code


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
    options = RunOptions(repeat=1, scenarios=("cold",), compressed=False)
    request = benchmark.RunRequest(
        manifest=loaded, variants=variants, options=options, out_dir=args.out
    )
    result, path, _ = benchmark.run(request, ConsoleProgress(total_variants=len(variants)))
    failed = False
    for variant in result.variants:
        smoke_result = variant.smoke
        if smoke_result is None:
            print(f"{variant.name:12} not tested: {variant.reason}")
            failed = True
        elif smoke_result.ok:
            memory = format_bytes(smoke_result.memory_bytes or 0)
            print(
                f"{variant.name:12} ok: healthy after "
                f"{format_seconds(smoke_result.ready_seconds or 0)}, {memory} memory"
            )
        else:
            failed = True
            print(f"{variant.name:12} FAILED: {smoke_result.reason}")
            for line in smoke_result.log_tail[-5:]:
                print(f"{'':14}| {line}")
    print(f"results: {path}")
    return EXIT_FAILED if failed else EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    paths = list(args.results) or [storage.latest_results(Path("reports/results"))]
    runs = [storage.load(path) for path in paths]
    for written in write_reports(runs, paths, args.report_dir):
        print(f"wrote {written}")
    return EXIT_OK


def write_reports(runs: list[RunResult], sources: list[Path], report_dir: Path) -> list[Path]:
    """latest.md and samples.csv, regenerated from results (never edited by hand)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    markdown = report_dir / "latest.md"
    csv = report_dir / "samples.csv"
    storage.write_text_atomic(markdown, report.render_markdown(runs))
    report.write_csv(runs, csv)
    return [markdown, csv]


def _print_summary(result: RunResult) -> None:
    for variant in result.variants:
        size = format_bytes(variant.image.size_bytes) if variant.image else "-"
        status = "ok" if variant.status == "ok" else f"{variant.status}: {variant.reason}"
        print(f"  {variant.name:12} {size:>9}  {status}", file=sys.stdout)
