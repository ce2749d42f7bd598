"""`bench merge`: what a set of results files adds up to before it is read as one report.

Shards of one run (`run --shard K/N`), measured by CI jobs or on several engines, come back
as separate files. Before their numbers are put side by side, the merge says which files it
read, whether together they cover the whole split run, and where a variant was measured more
than once on one engine (two runs of the same work: both are shown, neither dropped) or got
two different sizes (a size does not depend on the machine, so two sizes mean two builds
that differ).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bench.models import SHARD_OPTION, SHARD_UNITS_OPTION, RunResult, VariantResult
from bench.report import markup
from bench.report.markup import pipe_table
from bench.report.matrix import median_seconds, python_version
from bench.units import format_bytes, format_seconds


@dataclass(frozen=True, order=True)
class Unit:
    """One variant, one Python version, one builder: what a results row measures."""

    variant: str
    python_version: str  # "default": each Dockerfile's own
    builder: str  # "classic" or "buildkit"


@dataclass(frozen=True)
class Split:
    """The files of one split run (`--shard K/N`) and what they cover."""

    count: int  # N
    expected_units: int  # the whole run's work units; 0 when the files did not record it
    shards_seen: tuple[int, ...]  # the K of every file read
    units_seen: int

    @property
    def whole(self) -> bool:
        return self.expected_units > 0 and self.units_seen >= self.expected_units

    @property
    def shards_without_file(self) -> tuple[int, ...]:
        return tuple(k for k in range(1, self.count + 1) if k not in self.shards_seen)


@dataclass(frozen=True)
class Repeat:
    """A unit measured in more than one run of one engine: every run's numbers."""

    engine: str
    unit: Unit
    runs: tuple[tuple[str, VariantResult], ...]  # (run id, its row)


@dataclass(frozen=True)
class SizeConflict:
    """A unit whose image size differs between runs (on any engines)."""

    unit: Unit
    sizes: tuple[tuple[str, int], ...]  # (run id, size in bytes)


@dataclass(frozen=True)
class Coverage:
    splits: tuple[Split, ...]
    repeats: tuple[Repeat, ...]
    conflicts: tuple[SizeConflict, ...]
    git_shas: tuple[str, ...]
    # Pairs of run ids measured on one host at the same time: each timed the other's work.
    overlaps: tuple[tuple[str, str], ...] = ()

    @property
    def complete(self) -> bool:
        return all(split.whole for split in self.splits)


def unit_of(run: RunResult, variant: VariantResult) -> Unit:
    return Unit(variant.name, python_version(run), run.provenance.engine.builder)


def coverage(runs: Sequence[RunResult]) -> Coverage:
    """What the runs cover together, and what they measured twice."""
    options = [dict(run.provenance.options) for run in runs]
    by_split: dict[tuple[int, int], list[tuple[int, RunResult]]] = defaultdict(list)
    for run, recorded in zip(runs, options, strict=True):
        if SHARD_OPTION in recorded:
            index, _, count = recorded[SHARD_OPTION].partition("/")
            expected = int(recorded.get(SHARD_UNITS_OPTION, "0") or 0)
            by_split[(int(count), expected)].append((int(index), run))
    splits = tuple(
        Split(
            count,
            expected,
            tuple(sorted({index for index, _ in members})),
            len({unit_of(run, v) for _, run in members for v in run.variants}),
        )
        for (count, expected), members in sorted(by_split.items())
    )
    measured: dict[tuple[tuple[str, str, str, str], Unit], list[tuple[str, VariantResult]]]
    measured = defaultdict(list)
    sizes: dict[Unit, dict[str, int]] = defaultdict(dict)
    labels: dict[tuple[str, str, str, str], str] = {}
    for run in runs:
        engine = markup.engine_of(run)
        labels[engine] = markup.engine_label(run)
        for variant in run.variants:
            unit = unit_of(run, variant)
            measured[(engine, unit)].append((run.run_id, variant))
            if variant.image is not None:
                sizes[unit][run.run_id] = variant.image.size_bytes
    repeats = tuple(
        Repeat(labels[engine], unit, tuple(rows))
        for (engine, unit), rows in measured.items()
        if len(rows) > 1
    )
    conflicts = tuple(
        SizeConflict(unit, tuple(by_run.items()))
        for unit, by_run in sorted(sizes.items())
        if len(set(by_run.values())) > 1
    )
    shas = tuple(dict.fromkeys(run.provenance.git_sha for run in runs))
    return Coverage(splits, repeats, conflicts, shas, _overlaps(runs))


def _overlaps(runs: Sequence[RunResult]) -> tuple[tuple[str, str], ...]:
    """Runs on one host whose start-to-finish spans overlap (two shards started side by side
    on one machine, say): their timings include each other's load."""
    spans = [
        (run.provenance.host, run.provenance.started_utc, run.finished_utc, run.run_id)
        for run in runs
        if run.finished_utc
    ]
    return tuple(
        (first[3], second[3])
        for index, first in enumerate(spans)
        for second in spans[index + 1 :]
        # ISO 8601 UTC times of one format compare as text.
        if first[0] == second[0] and first[1] < str(second[2]) and second[1] < str(first[2])
    )


def render_coverage(runs: Sequence[RunResult], found: Coverage) -> str:
    """The merged report's first section: the files, their coverage, repeats and conflicts."""
    inputs = pipe_table(
        ["run", "shard", "engine", "builder", "python", "variants"],
        [
            [
                run.run_id,
                dict(run.provenance.options).get(SHARD_OPTION, "none"),
                markup.engine_label(run),
                run.provenance.engine.builder,
                python_version(run),
                ", ".join(v.name for v in run.variants) or "none",
            ]
            for run in runs
        ],
    )
    blocks = [inputs, *_split_lines(found), _repeats_block(found), _conflicts_block(found)]
    for first, second in found.overlaps:
        blocks.append(
            f"⚠ Runs `{first}` and `{second}` ran on the same host at the same time: each "
            "one's timings include the other's load (two engines of one machine share its "
            "cores and disk). Their sizes are unaffected."
        )
    if len(found.git_shas) > 1:
        blocks.append(
            "⚠ The runs measured different commits of the harness or the project "
            f"({', '.join(found.git_shas)}): their numbers may not be comparable."
        )
    return markup.section(
        "Merged results",
        f"{len(runs)} results files, read as one report. Sizes are compared across all of "
        "them (a size does not depend on the machine); timings only within one engine (one "
        "Docker host and engine version on one host), each engine in a table of its own, "
        "and no ratio is ever taken across two engines.",
        *blocks,
    )


def _split_lines(found: Coverage) -> list[str]:
    lines = []
    for split in found.splits:
        if split.expected_units == 0:
            lines.append(
                f"Split into {split.count} shards: the files do not record how many work "
                f"units the whole run had, so whether all {split.count} shards are here "
                f"cannot be told (shards read: {_shard_list(split.shards_seen)})."
            )
        elif split.whole:
            lines.append(
                f"**Complete**: the shards of the run split {split.count} ways cover all "
                f"{split.expected_units} of its work units (variant, Python version, builder)."
            )
        else:
            missing = split.expected_units - split.units_seen
            without = _shard_list(split.shards_without_file)
            lines.append(
                f"**Incomplete**: the run split {split.count} ways has {split.expected_units} "
                f"work units and these files cover {split.units_seen}; {missing} are missing"
                + (f" (no results file from shard {without})" if without else "")
                + ". What is below is only what was measured."
            )
    return lines


def _shard_list(indexes: Sequence[int]) -> str:
    return ", ".join(str(index) for index in indexes) or "none"


def _repeats_block(found: Coverage) -> str:
    if not found.repeats:
        return ""
    body = []
    for repeat in found.repeats:
        for run_id, variant in repeat.runs:
            cold = median_seconds(variant, "cold")
            body.append(
                [
                    repeat.engine,
                    _unit_text(repeat.unit),
                    run_id,
                    format_bytes(variant.image.size_bytes) if variant.image else "no image",
                    format_seconds(cold) if cold is not None else markup.absent(variant),
                ]
            )
    return (
        "Measured more than once on one engine (both runs are shown in every table below, "
        "none is dropped):\n\n"
        + pipe_table(["engine", "work unit", "run", "size", "cold build (median)"], body)
    )


def _conflicts_block(found: Coverage) -> str:
    if not found.conflicts:
        return ""
    lines = [
        f"- ⚠ {_unit_text(conflict.unit)}: "
        + ", ".join(f"{format_bytes(size)} in run {run_id}" for run_id, size in conflict.sizes)
        for conflict in found.conflicts
    ]
    return (
        "Sizes that differ between runs (the builds differ: another base image digest, "
        "another package version, or a build that is not reproducible):\n\n" + "\n".join(lines)
    )


def _unit_text(unit: Unit) -> str:
    return f"{unit.variant}, Python {unit.python_version}, {unit.builder}"
