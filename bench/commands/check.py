"""The `check` and `baseline update` commands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench import manifest, storage
from bench.errors import EXIT_FAILED, EXIT_OK, BenchError
from bench.gate import baseline as baseline_module
from bench.gate.render import render_markdown, render_terminal
from bench.gate.rules import Tolerance
from bench.gate.rules import check as run_check
from bench.units import parse_size_bytes

RESULTS_DIR = Path("reports/results")


def _results(path: Path | None) -> Path:
    return path or storage.latest_results(RESULTS_DIR)


def update_baseline(args: argparse.Namespace) -> int:
    source = _results(args.results)
    run = storage.load(source)
    made = baseline_module.from_run(run)
    target = args.baseline or baseline_module.default_path(run)
    baseline_module.save(made, target)
    skipped = [v.name for v in run.variants if v.status != "ok"]
    print(
        f"wrote {target} from {source}: {', '.join(v.name for v in made.variants)}"
        + (f" (left out, not ok: {', '.join(skipped)})" if skipped else "")
    )
    return EXIT_OK


def check(args: argparse.Namespace) -> int:
    source = _results(args.results)
    run = storage.load(source)
    if not 0 <= args.tolerance <= 1000:
        raise BenchError(f"--tolerance {args.tolerance}: expected a percentage from 0 to 1000")
    if args.max_new_layers < 0:
        raise BenchError("--max-new-layers must be 0 or more")
    try:
        minimum = parse_size_bytes(args.tolerance_min)
    except ValueError as error:
        raise BenchError(f"--tolerance-min: {error}") from error
    path = args.baseline or baseline_module.default_path(run)
    loaded_baseline = None
    if args.baseline is None and not path.exists():
        # A first run in a new setting (e.g. the first pull request on GitHub): budgets and
        # cache rules still apply; sizes are reported as new.
        print(
            f"note: no baseline at {path} yet; create one with "
            f"`python -m bench baseline update {source}` and commit it"
        )
    else:
        loaded_baseline = baseline_module.load(path)
    if (
        loaded_baseline is not None
        and loaded_baseline.bases_are_standins != run.provenance.bases_are_standins
    ):
        made_with = "stand-in" if loaded_baseline.bases_are_standins else "real"
        measured_with = "stand-in" if run.provenance.bases_are_standins else "real"
        raise BenchError(
            f"{path} was made with {made_with} bases but {source} with {measured_with} ones: "
            "compare like with like (see --baseline)"
        )
    store = run.provenance.engine.image_store
    if loaded_baseline is not None and loaded_baseline.image_store != store:
        raise BenchError(
            f"{path} was made on an engine with the {loaded_baseline.image_store} image store "
            f"but {source} on one with the {store} store (sizes and layers differ): compare "
            "like with like (see --baseline)"
        )
    variants = {v.name: v for v in manifest.load(args.manifest).variants}
    result = run_check(
        run,
        loaded_baseline,
        variants,
        Tolerance(args.tolerance / 100, minimum, args.max_new_layers),
    )
    print(render_terminal(result), end="")
    markdown = render_markdown(result, str(path))
    if args.markdown:
        storage.write_text_atomic(args.markdown, markdown)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a") as handle:
            handle.write(markdown + "\n")
    return EXIT_FAILED if result.failed else EXIT_OK
