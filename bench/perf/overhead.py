"""Orchestration overhead: a whole `bench run`'s wall time against the work it timed.

The run is started as a child process and timed from outside, so its wall time includes
everything a user waits for: interpreter start-up and imports, the run, cleanup, and the
report with its charts. Its results file gives the timed work (builds, pulls, time to
healthy) and the wall seconds of each untimed phase (bench/run/phases.py); what no phase
covers is process start-up, imports and writing the report.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench import storage
from bench.errors import BenchError
from bench.models import RunResult
from bench.run import phases

TIMED_BUILDS = "timed builds and pulls"
TIMED_SMOKE = "smoke test: time to healthy"
UNTIMED_SMOKE = "smoke test: start, prediction, memory, removal"
OTHER = "other: process start-up, imports, report and charts"


@dataclass(frozen=True)
class Overhead:
    """A whole run's wall time, what it timed, and where the rest went."""

    run_id: str
    wall_seconds: float
    timed_seconds: float
    # How wall_seconds was taken: around the process, or from the results file's clock.
    wall_source: str
    # (part, seconds) in report order; the parts add up to wall_seconds.
    parts: tuple[tuple[str, float], ...]
    variants: int
    repeat: str

    @property
    def share(self) -> float:
        return 1 - self.timed_seconds / self.wall_seconds if self.wall_seconds else 0.0


def from_run(run: RunResult, wall_seconds: float | None = None) -> Overhead:
    """The overhead of `run`; without a measured wall time, the file's own timestamps."""
    if not run.finished_utc:
        raise BenchError(f"run {run.run_id} did not finish: no wall time to compare")
    source = "measured around the `python -m bench run` process"
    if wall_seconds is None:
        source = "from the results file (run start to finish; start-up and report not included)"
        wall_seconds = (
            datetime.fromisoformat(run.finished_utc)
            - datetime.fromisoformat(run.provenance.started_utc)
        ).total_seconds()
    builds = sum(s.duration_seconds or 0.0 for v in run.variants for s in v.samples)
    ready = sum(v.smoke.ready_seconds or 0.0 for v in run.variants if v.smoke)
    recorded = dict(run.harness_seconds)
    parts: list[tuple[str, float]] = [(TIMED_BUILDS, builds), (TIMED_SMOKE, ready)]
    for name in (
        phases.SETUP,
        phases.SCRATCH,
        phases.ANALYSIS,
        phases.SMOKE,
        phases.WARM_UP,
        phases.SAVING,
        phases.CLEANUP,
    ):
        seconds = recorded.pop(name, 0.0)
        if name == phases.SMOKE:
            # The phase holds the whole smoke test; its time to healthy is timed work.
            parts.append((UNTIMED_SMOKE, max(0.0, seconds - ready)))
        else:
            parts.append((name, seconds))
    parts += sorted(recorded.items())  # phases a newer harness added
    parts.append((OTHER, max(0.0, wall_seconds - sum(seconds for _, seconds in parts))))
    options = dict(run.provenance.options)
    return Overhead(
        run_id=run.run_id,
        wall_seconds=wall_seconds,
        timed_seconds=builds + ready,
        wall_source=source,
        parts=tuple((name, round(seconds, 3)) for name, seconds in parts),
        variants=len(run.variants),
        repeat=options.get("repeat", "?"),
    )


def measure(run_arguments: list[str], progress_prefix: str = "perf") -> Overhead:
    """Run `python -m bench run ARGS` into a scratch directory, timed from outside."""
    with tempfile.TemporaryDirectory(prefix="dockerfile-bench-perf-run-") as scratch:
        out = Path(scratch) / "results"
        command = [
            sys.executable,
            "-m",
            "bench",
            "run",
            *run_arguments,
            "--out",
            str(out),
            "--report-dir",
            str(Path(scratch) / "report"),
        ]
        print(f"{progress_prefix}: timing {' '.join(command[1:])}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        # Its progress goes to our stderr; exit 1 (a variant failed) is still a timed run.
        finished = subprocess.run(command, check=False)
        wall_seconds = time.perf_counter() - started
        if finished.returncode not in (0, 1):
            raise BenchError(f"the timed `bench run` failed with exit code {finished.returncode}")
        (results,) = sorted(out.glob("*.json"))[-1:]
        return from_run(storage.load(results), wall_seconds)
