"""Charts next to the report: written when there is data, linked under their sections."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.commands.run import write_reports
from bench.report.charts import SIZE_CHART, TIMING_CHART, write_charts
from tests.unit.sample_results import sample_run

PNG = b"\x89PNG\r\n\x1a\n"


def test_both_charts_are_written(tmp_path: Path) -> None:
    charts = write_charts([sample_run()], tmp_path)
    assert charts == {"groups": SIZE_CHART, "timing": TIMING_CHART}
    for name in charts.values():
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_the_same_results_draw_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write_charts([sample_run()], first)
    write_charts([sample_run()], second)
    assert (first / SIZE_CHART).read_bytes() == (second / SIZE_CHART).read_bytes()


def test_no_data_no_chart(tmp_path: Path) -> None:
    run = sample_run()
    empty = replace(
        run,
        variants=tuple(replace(v, samples=(), image=None) for v in run.variants),
    )
    assert write_charts([empty], tmp_path) == {}
    assert list(tmp_path.iterdir()) == []


def test_the_report_links_the_charts_it_wrote(tmp_path: Path) -> None:
    two_runs = [sample_run(), replace(sample_run(), run_id="20261125T080000Z-000001")]
    written = write_reports(two_runs, [Path("a.json"), Path("b.json")], tmp_path)
    assert {path.name for path in written} >= {"latest.md", SIZE_CHART, TIMING_CHART}
    markdown = (tmp_path / "latest.md").read_text()
    groups = markdown.split("## What is big", 1)[1].split("\n## ", 1)[0]
    timing = markdown.split("## First build vs rebuild", 1)[1].split("\n## ", 1)[0]
    assert f"![groups chart]({SIZE_CHART})" in groups
    assert f"![timing chart]({TIMING_CHART})" in timing
