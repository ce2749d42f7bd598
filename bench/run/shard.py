"""`run --shard K/N`: split a run's work units into N parts, the same way on every machine.

A work unit is one variant built for one Python version by one builder: what one results file
row measures. The split is round-robin over the units sorted by (variant, Python version,
builder): shard K takes the units at positions K-1, K-1+N, K-1+2N... It was chosen over
"sha256 of the key modulo N" because it balances exactly (shard sizes differ by at most one,
and no shard is empty while another has two units more), where a hash leaves shards of 20 units
uneven and often empty at N close to the number of units. The price is that a unit's shard
depends on the whole set of units, so every job of one sharded run must be given the same
variants, `--python` and `--builder`; the key never depends on the order of the command line
or on Python's hash seed, so those jobs agree on any machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.errors import BenchError

# The name under which the shard is recorded in a results file's provenance options.
OPTION = "shard"

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Part `index` (1-based) of `count`."""

    index: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True, order=True)
class WorkUnit:
    """One variant, built for one Python version by one builder; fields in sort-key order."""

    variant: str
    # "" for each Dockerfile's own default: sorts first, and never None in a comparison.
    python_version: str
    builder: str


def parse(text: str) -> Shard:
    """`K/N` with 1 <= K <= N, else one line saying what was expected."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise BenchError(f"--shard {text!r}: expected K/N, e.g. 2/3 for the second of three parts")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise BenchError(
            f"--shard {text!r}: K must be between 1 and N (N >= 1), e.g. 1/{count or 1}"
        )
    return Shard(index, count)


def units(
    variants: Iterable[str], python_versions: Iterable[str | None], builders: Iterable[str]
) -> tuple[WorkUnit, ...]:
    """Every (variant, Python version, builder) of a run, sorted, each once."""
    versions = list(python_versions)
    builder_names = list(builders)
    return tuple(
        sorted(
            {
                WorkUnit(variant, version or "", builder)
                for variant in variants
                for version in versions
                for builder in builder_names
            }
        )
    )


def select(all_units: Sequence[WorkUnit], shard: Shard) -> tuple[WorkUnit, ...]:
    """This shard's units: round-robin over the sorted units (see the module's docstring)."""
    ordered = sorted(set(all_units))  # sorted here too: the caller's order must not matter
    return tuple(ordered[shard.index - 1 :: shard.count])
