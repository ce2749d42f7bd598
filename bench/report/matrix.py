"""Tables across runs: builder by builder (classic vs BuildKit) and Python version by version."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest

from bench.models import BUILD_SCENARIOS, RunResult, VariantResult
from bench.report import markup
from bench.report.markup import pipe_table
from bench.stats import summarize
from bench.units import format_bytes, format_seconds


def python_version(run: RunResult) -> str:
    """The PYTHON_VERSION build argument of a run, or the Dockerfiles' default."""
    for key, value in run.provenance.options:
        if key == "build_args":
            for pair in value.split(","):
                name, _, version = pair.partition("=")
                if name == "PYTHON_VERSION":
                    return version
    return "default"


def median_seconds(variant: VariantResult, scenario: str) -> float | None:
    """The median of a variant's successful samples of a scenario; None without one."""
    summary = summarize(
        s.duration_seconds
        for s in variant.samples
        if s.scenario == scenario and s.ok and s.duration_seconds is not None
    )
    return summary.median if summary else None


def _cell(variant: VariantResult | None, scenario: str) -> str:
    if variant is None:
        return "not measured"
    if variant.status == "skipped":
        return f"skipped: {variant.reason}"
    median = median_seconds(variant, scenario)
    if median is None:
        return f"failed: {variant.reason or 'no successful sample'}"
    return format_seconds(median)


def render_builders(runs: Sequence[RunResult]) -> str:
    """cold/edit/noop per variant and builder, with the BuildKit/classic ratio."""
    # A ratio compares two builds of one engine only: runs of other engines (shards of one
    # matrix measured elsewhere, say) get a table of their own, never a ratio across engines.
    groups: dict[tuple[str, str, str, str], list[RunResult]] = {}
    for run in runs:
        groups.setdefault(markup.engine_of(run), []).append(run)
    header = [
        "variant",
        "python",
        "scenario",
        "classic (SDK)",
        "BuildKit (CLI)",
        "BuildKit / classic",
    ]
    tables = [pipe_table(header, _builder_rows(group)) for group in groups.values()]
    if len(tables) > 1:
        tables = [
            f"{markup.engine_label(group[0])}:\n\n{table}"
            for group, table in zip(groups.values(), tables, strict=True)
        ]
    table = "\n\n".join(tables)
    return "\n".join(
        [
            "## Classic builder vs BuildKit",
            "",
            "The same Dockerfile, context and cache-state definitions built by the engine's "
            "classic builder (Docker SDK for Python) and by BuildKit (`docker build` with "
            "`DOCKER_BUILDKIT=1`, as current Docker builds by default). Medians of the samples.",
            "",
            table,
            "",
            "Why they differ: BuildKit runs independent stages in parallel, skips stages the "
            "target does not need, and records metadata-only instructions (ENV, USER, EXPOSE, CMD, "
            "LABEL) without committing a container for each, which is most of a cached rebuild's "
            "time with the classic builder. Each builder's cold build runs with its own cache off "
            "(`nocache` / `--no-cache`); the two caches are separate stores, so neither reuses the "
            "other's. BuildKit cache records a lab run creates are pruned by id at the end; on a "
            "user's engine they are left alone.",
            "",
        ]
    )


def _builder_rows(runs: Sequence[RunResult]) -> list[list[str]]:
    """Classic against BuildKit per variant, version and scenario, for runs of one engine."""
    # Lists, not one entry per name: a variant measured twice (two runs of one builder) shows
    # twice, each paired with the BuildKit measurement of the same rank, never dropped.
    by_builder: dict[tuple[str, str], dict[str, list[VariantResult]]] = {}
    for run in runs:
        measured = by_builder.setdefault((run.provenance.engine.builder, python_version(run)), {})
        for variant in run.variants:
            measured.setdefault(variant.name, []).append(variant)
    rows = []
    for version in sorted({version for _, version in by_builder}):
        classic = by_builder.get(("classic", version), {})
        buildkit = by_builder.get(("buildkit", version), {})
        for name in dict.fromkeys([*classic, *buildkit]):
            pairs = zip_longest(classic.get(name, []), buildkit.get(name, []))
            for a, b in pairs:
                for scenario in BUILD_SCENARIOS:
                    ma = median_seconds(a, scenario) if a else None
                    mb = median_seconds(b, scenario) if b else None
                    ratio = f"{mb / ma:.2f}" if ma and mb else "n/a (a side has no sample)"
                    rows.append(
                        [name, version, scenario, _cell(a, scenario), _cell(b, scenario), ratio]
                    )
    return rows


def render_versions(runs: Sequence[RunResult]) -> str:
    """Image size and cold build per variant and Python version, a table per engine."""
    # The cold build is a time: runs of different engines are never rows of one table.
    groups: dict[tuple[str, str, str, str], list[RunResult]] = {}
    for run in runs:
        groups.setdefault(markup.engine_of(run), []).append(run)
    tables = [
        pipe_table(["variant", "python", "image size", "cold build"], _version_rows(group))
        for group in groups.values()
    ]
    if len(tables) > 1:
        tables = [
            f"{markup.engine_label(group[0])}:\n\n{table}"
            for group, table in zip(groups.values(), tables, strict=True)
        ]
    return "\n".join(
        [
            "## Python versions",
            "",
            "The same variants built with `PYTHON_VERSION` set; a variant whose base "
            "does not exist for a version is skipped, with the reason.",
            "",
            "\n\n".join(tables),
            "",
        ]
    )


def _version_rows(runs: Sequence[RunResult]) -> list[list[str]]:
    rows = []
    for run in runs:
        if run.provenance.engine.builder != "classic" and any(
            r.provenance.engine.builder == "classic" for r in runs
        ):
            continue  # one builder is enough for sizes; the classic one is the default
        for variant in run.variants:
            size = (
                format_bytes(variant.image.size_bytes)
                if variant.image
                else f"{variant.status}: {variant.reason}"
            )
            rows.append([variant.name, python_version(run), size, _cell(variant, "cold")])
    return rows


def render_matrix(runs: Sequence[RunResult]) -> str:
    """The cross-run sections that apply, or an empty string for a single run."""
    sections = []
    if len({r.provenance.engine.builder for r in runs}) > 1:
        sections.append(render_builders(runs))
    if len({python_version(r) for r in runs}) > 1:
        sections.append(render_versions(runs))
    return "\n".join(sections)
