"""`python -m bench notes` (the study notes' tables, filled) and `python -m bench diff A B` (what
changed between two variants' images), both from results files alone: no Docker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import storage
from bench.errors import EXIT_OK
from bench.report.diff import diff_variants, render_diff
from bench.report.notes import render_notes

RESULTS_DIR = Path("reports/results")


def notes(args: argparse.Namespace) -> int:
    """Render the notes of the given results files (default: the newest) to --out or stdout."""
    paths = list(args.results) or [storage.latest_results(RESULTS_DIR)]
    runs = [storage.load(path) for path in paths]
    text = render_notes(runs, args.lang)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    storage.write_text_atomic(args.out, text)
    print(f"wrote {args.out}")
    return EXIT_OK


def diff(args: argparse.Namespace) -> int:
    """Print what changed between variants A and B of one results file (default: the newest)."""
    path = args.results or storage.latest_results(RESULTS_DIR)
    run = storage.load(path)
    sys.stdout.write(render_diff(diff_variants(run, args.before, args.after)))
    return EXIT_OK
