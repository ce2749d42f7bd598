"""A run's scratch copies of build contexts: the edit scenario changes files there, never in
the user's tree. Each is removed when its variant is measured; any an interrupt or a lost
engine left behind, by the session's cleanup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.context.scratch import remove_scratch, scratch_copy
from bench.run import phases


class ScratchCopies:
    """The scratch copies of one run; the session owns it and removes what is left."""

    def __init__(self, run_id: str, clock: phases.PhaseClock) -> None:
        self._run_id = run_id
        self._clock = clock
        self._live: list[Path] = []

    @contextmanager
    def copy(self, context_dir: Path) -> Iterator[Path]:
        """A private copy of `context_dir` for the block, removed when it ends."""
        with self._clock.phase(phases.SCRATCH):
            scratch = scratch_copy(context_dir, self._run_id)
        self._live.append(scratch)
        try:
            yield scratch
        finally:
            with self._clock.phase(phases.SCRATCH):
                remove_scratch(scratch)
            if scratch in self._live:  # else remove_all came first
                self._live.remove(scratch)

    def live(self) -> tuple[Path, ...]:
        """The copies not removed yet."""
        return tuple(self._live)

    def remove_all(self) -> None:
        """Remove every copy still there (a block an interrupt never let end)."""
        for scratch in list(self._live):
            remove_scratch(scratch)
            self._live.remove(scratch)
