"""The classic-vs-BuildKit table over several runs: ratios within one engine, nothing dropped."""

from __future__ import annotations

from dataclasses import replace

from bench.models import RunResult
from bench.report.matrix import render_builders, render_versions
from tests.unit.sample_results import sample_run


def _run(run_id: str, builder: str, server_version: str = "20.10.24+dfsg1") -> RunResult:
    run = sample_run()
    engine = replace(run.provenance.engine, builder=builder, server_version=server_version)
    provenance = replace(run.provenance, engine=engine)
    return replace(run, run_id=run_id, provenance=provenance)


def _rows(markdown: str, variant: str, scenario: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in markdown.splitlines()
        if line.startswith(f"| {variant} ") and f"| {scenario} " in line
    ]


def test_classic_and_buildkit_on_one_engine_get_a_ratio() -> None:
    markdown = render_builders([_run("a", "classic"), _run("b", "buildkit")])
    (row,) = _rows(markdown, "slim", "cold")
    assert row[5] == "1.00"  # the same samples on both sides
    assert "Engine " not in markdown  # one engine: no engine label


def test_no_ratio_across_engines() -> None:
    # Classic on Engine 20.10, BuildKit on Engine 26 (two shards on two machines, say):
    # each engine's table has one side only, so no ratio compares them.
    markdown = render_builders([_run("a", "classic"), _run("b", "buildkit", "26.1.5+dfsg1")])
    rows = _rows(markdown, "slim", "cold")
    assert len(rows) == 2
    assert all(row[5] == "n/a (a side has no sample)" for row in rows)
    assert rows[0][4] == "not measured" and rows[1][3] == "not measured"
    assert "Engine 20.10.24+dfsg1 at " in markdown and "Engine 26.1.5+dfsg1 at " in markdown


def test_a_variant_measured_twice_on_one_engine_is_shown_twice() -> None:
    runs = [_run("a", "classic"), _run("b", "classic"), _run("c", "buildkit")]
    rows = _rows(render_builders(runs), "slim", "cold")
    assert len(rows) == 2  # the second classic run is not dropped
    assert rows[0][5] == "1.00" and rows[1][4] == "not measured"


def test_python_versions_of_different_engines_are_tables_apart() -> None:
    markdown = render_versions([_run("a", "classic"), _run("b", "classic", "26.1.5+dfsg1")])
    assert markdown.count("| variant ") == 2
    assert markdown.index("Engine 20.10.24+dfsg1 at ") < markdown.index("Engine 26.1.5+dfsg1 at ")
    one_engine = render_versions([_run("a", "classic"), _run("b", "classic")])
    assert one_engine.count("| variant ") == 1 and "Engine " not in one_engine
