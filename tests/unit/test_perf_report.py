"""The perf report: overhead parts that add up, goals judged from the numbers, a golden page.

Regenerate the golden with `UPDATE_GOLDEN=1 python3 -m pytest tests/unit`.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from bench.commands.perf import perf_data, render_json, render_saved
from bench.errors import BenchError
from bench.perf.builds import Pair, verdict
from bench.perf.layers import LayersComparison
from bench.perf.overhead import (
    OTHER,
    TIMED_BUILDS,
    TIMED_SMOKE,
    UNTIMED_SMOKE,
    Overhead,
    from_run,
)
from bench.perf.render import render
from bench.perf.sources import ProcessSample, SourcesComparison, generated_tar
from tests.unit.sample_results import sample_run

GOLDEN = Path(__file__).parent / "golden" / "perf.md"


def test_overhead_parts_add_up_to_the_measured_wall_time() -> None:
    run = sample_run()
    overhead = from_run(run, wall_seconds=2000.0)
    parts = dict(overhead.parts)
    builds = sum(s.duration_seconds or 0.0 for v in run.variants for s in v.samples)
    ready = sum(v.smoke.ready_seconds or 0.0 for v in run.variants if v.smoke)
    assert parts[TIMED_BUILDS] == pytest.approx(builds, abs=1e-3)
    assert parts[TIMED_SMOKE] == pytest.approx(ready, abs=1e-3)
    # The smoke phase holds the whole smoke test: only its time to healthy is timed.
    assert parts[UNTIMED_SMOKE] == pytest.approx(14.25 - ready, abs=1e-3)
    assert parts["layer analysis"] == 41.5
    assert sum(parts.values()) == pytest.approx(2000.0, abs=0.01)
    assert parts[OTHER] > 0
    assert overhead.timed_seconds == pytest.approx(builds + ready)
    assert overhead.share == pytest.approx(1 - (builds + ready) / 2000.0)
    assert "around" in overhead.wall_source


def test_overhead_without_a_measured_wall_time_uses_the_file_clock() -> None:
    overhead = from_run(sample_run())
    # 10:15:02 to 10:31:47 in the sample run.
    assert overhead.wall_seconds == 16 * 60 + 45
    assert "results file" in overhead.wall_source


def test_an_unfinished_run_has_no_overhead() -> None:
    with pytest.raises(BenchError, match="did not finish"):
        from_run(replace(sample_run(), finished_utc=None))


def _layers(ours: tuple[float, ...], dive: tuple[float, ...]) -> LayersComparison:
    return LayersComparison(
        image="dockerfile-bench/perf-layers:run1",
        size_bytes=1_002_452_308,
        layer_count=8,
        through_engine=Pair("layers", ours, dive),
        on_archive=Pair("layers-archive", (0.54, 0.55, 0.54), (1.17, 1.18, 1.17)),
        command_seconds=(7.9, 8.1, 8.0),
        save_seconds=(6.9, 7.0, 7.2),
        efficiency_percent=99.80341,
        dive_efficiency_percent=99.8034,
        wasted_bytes=3_608_830,
        dive_wasted_bytes=3_608_830,
    )


def _page(layers: LayersComparison) -> str:
    return render(*_inputs(layers), "slim")


def _inputs(
    layers: LayersComparison,
) -> tuple[list[Pair], LayersComparison, Overhead, dict[str, object]]:
    pairs = [
        Pair("cold", (20.1, 21.0, 20.5), (20.9, 21.2, 20.7)),
        Pair("noop", (0.060, 0.058, 0.061), (0.088, 0.090, 0.086)),
        Pair("context-cold", (2.3, 2.2, 2.4), (2.0, 2.1, 2.05)),
    ]
    provenance: dict[str, object] = {
        "run_id": "20261124T190000Z-abcdef",
        "engine": {
            "server_version": "20.10.24",
            "api_version": "1.41",
            "storage_driver": "overlay2",
            "cpus": 2,
        },
        "lab_mode": "lab",
        "cli": "/usr/bin/docker",
        "python": "3.11.7",
    }
    return pairs, layers, from_run(sample_run(), 2000.0), provenance


def test_perf_page_matches_golden() -> None:
    page = _page(_layers((6.9, 7.0, 6.7), (8.2, 8.5, 6.5)))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(page, encoding="utf-8")
    assert page == GOLDEN.read_text(encoding="utf-8"), "set UPDATE_GOLDEN=1 to regenerate"


def _goal_cells(page: str, first: str) -> list[str]:
    """The goal and verdict cells of the table row whose first cell is `first`."""
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first:
            return cells[-2:]
    raise AssertionError(f"no row {first!r}")


def test_goals_are_judged_from_the_numbers() -> None:
    page = _page(_layers((9.0, 9.1, 9.2), (8.2, 8.5, 6.5)))
    assert _goal_cells(page, "through the engine") == ["ratio ≤ 1.00", "missed"]
    # 2.3 / 2.05 = 1.12, but the interval [1.048, 1.200] reaches below the limit.
    assert _goal_cells(page, "context-cold") == ["ratio ≤ 1.10", "missed, within noise"]
    assert _goal_cells(page, "noop") == ["difference ≤ 50 ms", "met"]
    assert "overhead **" in page


@pytest.mark.parametrize(
    "value, interval, verdict_text",
    [
        (0.95, (0.90, 1.00), "met"),
        (1.20, (1.10, 1.30), "missed"),
        (1.00, (0.90, 1.10), "met, within noise"),
        (1.07, (0.97, 1.24), "missed, within noise"),
        (1.03, (1.03, 1.03), "met"),  # the limit itself is within the goal
    ],
)
def test_a_verdict_says_when_the_noise_was_larger_than_the_margin(
    value: float, interval: tuple[float, float], verdict_text: str
) -> None:
    assert verdict(value, interval, 1.03) == verdict_text


def test_the_difference_interval_brackets_the_difference_of_medians() -> None:
    pair = Pair("noop", (0.08, 0.09, 0.11, 0.10, 0.085), (0.12, 0.11, 0.13, 0.125, 0.115))
    low, high = pair.difference_interval()
    assert low <= pair.difference_seconds <= high
    assert -0.05 < low < high < 0.0
    steady = Pair("noop", (0.1, 0.1, 0.1), (0.2, 0.2, 0.2))
    assert steady.difference_interval() == pytest.approx((-0.1, -0.1))


def test_the_page_is_regenerated_from_the_saved_json_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bench perf --render-only`: perf.json holds everything the page shows."""
    inputs = _inputs(_layers((6.9, 7.0, 6.7), (8.2, 8.5, 6.5)))
    saved = tmp_path / "perf.json"
    saved.write_text(json.dumps(perf_data(*inputs, "multistage")))
    assert render_saved(saved) == 0
    capsys.readouterr()
    assert (tmp_path / "perf.md").read_text() == render(*inputs, "multistage")


def test_a_damaged_perf_json_is_one_line(tmp_path: Path) -> None:
    saved = tmp_path / "perf.json"
    saved.write_text('{"pairs": [{"scenario": "cold"}]}')
    with pytest.raises(BenchError, match=r"cannot render .*perf\.json"):
        render_saved(saved)
    assert not (tmp_path / "perf.md").exists()


def _sources(storage_seconds: float, dive_seconds: float) -> SourcesComparison:
    def samples(wall: float, peak: int) -> tuple[ProcessSample, ...]:
        return tuple(ProcessSample(wall + i / 100, wall / 10, peak + i) for i in range(5))

    return SourcesComparison(
        label="the full variant",
        image="dockerfile-bench/perf-layers:x",
        size_bytes=1_000_000_000,
        file_count=25_000,
        layer_count=9,
        storage=samples(storage_seconds, 30_000_000),
        save=samples(10.0, 80_000_000),
        dive=samples(dive_seconds, 31_000_000),
        same_numbers=True,
    )


def test_the_layer_sources_section_judges_speed_and_memory(tmp_path: Path) -> None:
    inputs = _inputs(_layers((6.9, 7.0, 6.7), (8.2, 8.5, 6.5)))
    page = render(*inputs, "slim", [_sources(0.5, 9.0)])
    assert "## Layer analysis from the engine's storage" in page
    assert "dive / ours (storage), wall: **17.3x**" in page
    assert "(goal >= 10x: met)" in page
    assert "(goal at or below: met)" in page
    slow = render(*inputs, "slim", [_sources(3.0, 9.0)])
    assert "(goal >= 10x: missed)" in slow
    # perf.json keeps every sample: the page comes back from it alone.
    saved = tmp_path / "perf.json"
    saved.write_text(json.dumps(perf_data(*inputs, "slim", [_sources(0.5, 9.0)])))
    assert render_json(saved) == page


def test_the_generated_image_has_the_files_and_bytes_asked_for() -> None:
    data = b"".join(generated_tar(2_500, 10_000_000))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
    files = [member for member in members if member.isfile()]
    assert (len(files), sum(member.size for member in files)) == (2_500, 10_000_000)
    assert len(members) == 2_500 + 3  # a folder per thousand files
