"""Where a run's untimed time goes: wall seconds per phase of the harness's own work.

The timed samples (builds, pulls, time to healthy) are what a run measures; everything
else it does is its overhead. `bench perf` sets the two against the run's wall time, and
these phases say which part of the harness the rest went to.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# The phases a run records, in the order the perf report lists them.
SETUP = "setup"  # engine, provenance, base labels
SCRATCH = "scratch copies"  # copying the context and removing the copy
ANALYSIS = "layer analysis"  # image inspection and the docker save pass (compressed size)
WHEELS = "wheel check"  # asking the package index about each requirement's wheels
SMOKE = "smoke test"  # the whole smoke test; only its time to healthy is timed
WARM_UP = "warm-up builds"  # untimed cached builds that fix the cache state
SAVING = "saving results"  # atomic JSON writes after every measurement
CLEANUP = "cleanup"  # this run's containers, images, BuildKit records


class PhaseClock:
    """Adds up wall seconds per phase; phases may repeat, never nest."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self._seconds[name] = self._seconds.get(name, 0.0) + seconds

    def totals(self) -> tuple[tuple[str, float], ...]:
        return tuple((name, round(seconds, 3)) for name, seconds in self._seconds.items())
