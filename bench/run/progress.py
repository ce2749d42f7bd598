"""Progress while builds run: a live line on a terminal, plain lines in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from bench.models import Sample
from bench.units import format_seconds


class ConsoleProgress:
    """On a terminal the current step is redrawn in place; elsewhere one line per sample."""

    def __init__(self, stream: TextIO | None = None, total_variants: int = 0) -> None:
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty()
        self._label = ""
        self._started = 0.0
        self._total = total_variants
        self._variant_index = 0
        self._variant = ""

    def start(self, variant: str, scenario: str, repeat: int, repeats: int) -> None:
        if variant != self._variant:
            self._variant = variant
            self._variant_index += 1
        position = f"[{self._variant_index}/{self._total}] " if self._total else ""
        self._label = f"{position}{variant} {scenario} {repeat}/{repeats}"
        self._started = time.perf_counter()
        if self._live:
            self._redraw("starting")
        else:
            print(f"{self._label} ...", file=self._stream, flush=True)

    def step(self, instruction: str) -> None:
        if self._live:
            elapsed = format_seconds(time.perf_counter() - self._started)
            self._redraw(f"{elapsed}  {instruction}")

    def done(self, sample: Sample) -> None:
        outcome = (
            format_seconds(sample.duration_seconds or 0.0)
            if sample.ok
            else f"FAILED: {sample.error}"
        )
        rerun = ""
        if sample.ok and sample.scenario in ("edit", "noop"):
            rerun = f", {len(sample.rerun_steps)} of {len(sample.counted_steps)} steps re-ran"
        self._finish_line(f"{self._label}: {outcome}{rerun}")

    def note(self, text: str) -> None:
        self._finish_line(text)

    def _redraw(self, text: str) -> None:
        width = 118
        line = f"{self._label}: {text}".replace("\n", " ")[:width]
        self._stream.write("\r" + line.ljust(width))
        self._stream.flush()

    def _finish_line(self, text: str) -> None:
        if self._live:
            self._stream.write("\r" + " " * 118 + "\r")
        print(text, file=self._stream, flush=True)


class SilentProgress:
    """For tests and library use."""

    def start(self, variant: str, scenario: str, repeat: int, repeats: int) -> None:
        return None

    def step(self, instruction: str) -> None:
        return None

    def done(self, sample: Sample) -> None:
        return None

    def note(self, text: str) -> None:
        return None
