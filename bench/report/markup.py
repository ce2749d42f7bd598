"""Markdown building blocks shared by the report's sections: cells, tables, sections.

Every cell says something: a missing record says why, never blank.
"""

from __future__ import annotations

from collections.abc import Callable

from tabulate import tabulate

from bench.models import BUILDX_BUILDER_OPTION, SMOKE_FAILURE, RunResult, VariantResult
from bench.report.paths import tilde_home

SHORT_CHARS = 60  # characters of a reason or an instruction shown in a table cell
SHORT_FAILURE_CHARS = 40  # ... of an error repeated in table cells (the full text is listed once)

# One table row's source: the run (for the "run" column) and the variant.
Row = tuple[RunResult, VariantResult]


def engine_of(run: RunResult) -> tuple[str, str, str, str]:
    """What a run's timings can be compared within: its host, Docker host and engine version,
    and the buildx builder that built them when not the engine's own BuildKit (a remote
    BuildKit times its own machine's work)."""
    engine = run.provenance.engine
    named = dict(run.provenance.options).get(BUILDX_BUILDER_OPTION, "")
    return (run.provenance.host, engine.docker_host, engine.server_version, named)


def engine_label(run: RunResult) -> str:
    """`Engine 20.10.24 at unix:///~/.../docker.sock on host bench-host`, home as `~`."""
    host, docker_host, version, named = engine_of(run)
    label = f"Engine {recorded(version)} at {recorded(docker_host)} on host {recorded(host)}"
    if named:
        label += f", built by buildx builder {named}"
    return tilde_home(label)


def by_engine(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """The rows grouped by engine_of, groups in order of first appearance, rows in order."""
    groups: dict[tuple[str, str, str, str], tuple[str, list[Row]]] = {}
    for row in rows:
        key = engine_of(row[0])
        groups.setdefault(key, (engine_label(row[0]), []))[1].append(row)
    return list(groups.values())


def short(text: str | None, limit: int = SHORT_CHARS) -> str:
    """The text on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join((text or "no reason recorded").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def recorded(value: object) -> str:
    """The value as text, or `not recorded` when it is missing or blank."""
    text = str(value).strip() if value is not None else ""
    return text or "not recorded"


def absent(variant: VariantResult) -> str:
    """What a cell says when its record is missing: why, never blank."""
    if variant.status == "ok" or recorded(variant.reason).startswith(SMOKE_FAILURE):
        # A smoke test runs after every build: when it failed, a missing record is one the
        # run was not asked for (a scenario left out), not one the failure stopped.
        return "not measured"
    if variant.status == "skipped":
        return f"skipped: {short(variant.reason, SHORT_FAILURE_CHARS)}"
    # Reasons read "build failed: <details>"; the cell keeps the head ("failed: build"),
    # the full reason is listed once under the variants.
    head = recorded(variant.reason).split(": ", 1)[0].removesuffix(" failed")
    return f"failed: {short(head, SHORT_FAILURE_CHARS)}"


def code(text: str, limit: int = SHORT_CHARS) -> str:
    """The text shortened as inline code (backticks inside become quotes)."""
    return "`" + short(text, limit).replace("`", "'") + "`"


def variant_label(variant: VariantResult) -> str:
    """A variant's name in a table's variant column, with its status unless ok."""
    return variant.name if variant.status == "ok" else f"{variant.name} ({variant.status})"


def where(run: RunResult, variant: VariantResult, with_run: bool) -> str:
    """A variant's name in sentences below a table; with the run when there are several."""
    return f"{variant.name} (run {run.run_id})" if with_run else variant.name


def pipe_table(header: list[str], body: list[list[str]]) -> str:
    """A markdown pipe table: each cell on one line, `|` escaped, columns padded, left-aligned."""

    def escape(cell: str) -> str:
        # A newline would end the row and a bare pipe would start a new cell.
        return " ".join(cell.split()).replace("|", "\\|")

    # disable_numparse: every cell is text, so numbers stay as written and align left.
    return tabulate(
        [[escape(cell) for cell in row] for row in body],
        headers=[escape(cell) for cell in header],
        tablefmt="pipe",
        disable_numparse=True,
    )


def plain_table(header: list[str], body: list[list[str]]) -> str:
    """A plain-text table for the terminal: columns padded, a dashed rule under the header."""
    return tabulate(body, headers=header, tablefmt="simple", disable_numparse=True)


def variant_table(
    rows: list[Row],
    with_run: bool,
    columns: list[str],
    cells: Callable[[RunResult, VariantResult], list[str]],
) -> str:
    """A pipe table, one row per variant, with a leading run column for several runs."""
    header = (["run"] if with_run else []) + ["variant", *columns]
    body = [
        ([run.run_id] if with_run else []) + [variant_label(variant), *cells(run, variant)]
        for run, variant in rows
    ]
    return pipe_table(header, body)


def definitions(*items: tuple[str, str]) -> str:
    """The "Columns:" list that defines a table's columns."""
    # The "Columns:" paragraph also keeps a list just above from merging with this one.
    return "Columns:\n\n" + "\n".join(f"- **{name}**: {meaning}" for name, meaning in items)


def section(title: str, intro: str, *blocks: str) -> str:
    """A `##` section: title, intro, then the non-empty blocks, a blank line apart."""
    return "\n\n".join([f"## {title}", intro, *(block for block in blocks if block)])
