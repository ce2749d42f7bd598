"""`run --shard K/N`: split a run's work units into N parts, the same way on every machine.

A work unit is one variant built for one Python version by one builder: what one results file
row measures. Units are split in groups: one variant for one Python version, with all its
builders, so that a variant's classic and BuildKit builds land on the same engine and the report
can put them side by side (a ratio across two engines would compare machines, not builders).
The groups, sorted by (variant, Python version), are dealt round-robin: shard K takes the groups
at positions K-1, K-1+N, K-1+2N... When there are fewer groups than shards, the units
themselves are dealt round-robin instead, sorted by (variant, Python version, builder), so no
job sits idle that could take a unit.

Round-robin was chosen over "sha256 of the key modulo N" because it balances exactly (shard
sizes differ by at most one group), where a hash leaves shards of 20 units uneven and often
empty at N close to the number of units. The price is that a unit's shard depends on the whole
set of units, so every job of one sharded run must be given the same variants, `--python` and
`--builder`; the key never depends on the order of the command line or on Python's hash seed,
so those jobs agree on any machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.errors import BenchError

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
    """This shard's units: its groups' (or, with fewer groups than shards, its own share of
    the units), round-robin (see the module's docstring)."""
    ordered = sorted(set(all_units))  # sorted here too: the caller's order must not matter
    groups = sorted({(unit.variant, unit.python_version) for unit in ordered})
    if len(groups) < shard.count:
        return tuple(ordered[shard.index - 1 :: shard.count])
    mine = set(groups[shard.index - 1 :: shard.count])
    return tuple(unit for unit in ordered if (unit.variant, unit.python_version) in mine)
