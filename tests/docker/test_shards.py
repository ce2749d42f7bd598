"""A run split in two (`run --shard K/N`), one shard on each lab engine, then `bench merge`:
the shards cover every work unit once, a variant's two builders land on one engine, and the
merged report compares sizes across both engines and timings within each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import storage
from bench.engine import labels
from bench.engine.client import Engine
from bench.lab import control
from bench.lab.paths import LabPaths
from bench.models import RunResult
from tests.project_set import MANIFEST

# Both lab engines at once: CI's Engine 26 pass, where the 20.10 engine is still up.
pytestmark = [pytest.mark.docker, pytest.mark.lab_engines("26")]

REPO = Path(__file__).resolve().parents[2]
# Four of our test projects that build in seconds; with both builders, 8 work units.
VARIANTS = ("wordcount-cli", "windows-reqs", "settings-env", "lint-stage")


def _bench(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *arguments],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        cwd=REPO,
    )


def _shard(index: int, engine: str, out: Path) -> list[RunResult]:
    done = _bench(
        "run",
        *VARIANTS,
        "--manifest",
        str(MANIFEST),
        "--engine",
        engine,
        "--shard",
        f"{index}/2",
        "--builder",
        "both",
        "--repeat",
        "1",
        "--scenario",
        "cold",
        "--scenario",
        "edit",
        "--no-compressed",
        "--no-wheel-check",
        "--no-report",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"shard {index}/2: 4 of 8 work units" in done.stdout
    return [storage.load(path) for path in sorted(out.glob("*.json"))]


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[RunResult], Path]:
    paths = LabPaths.default()
    for name in ("20.10", "26"):
        if control.lab_docker_host(paths, name) is None:
            pytest.fail(f"the lab's Engine {name} is not running: this test needs both")
    base = tmp_path_factory.mktemp("shards")
    runs = _shard(1, "20.10", base / "one") + _shard(2, "26", base / "two")
    return runs, base


def test_the_shards_measure_every_unit_once_each_on_its_engine(
    shards: tuple[list[RunResult], Path],
) -> None:
    runs, _ = shards
    assert len(runs) == 4  # one results file per builder in each shard
    units = [
        (variant.name, run.provenance.engine.builder) for run in runs for variant in run.variants
    ]
    assert sorted(units) == sorted((v, b) for v in VARIANTS for b in ("classic", "buildkit"))
    versions = {run.provenance.engine.server_version.split(".")[0] for run in runs}
    assert versions == {"20", "26"}
    for run in runs:
        options = dict(run.provenance.options)
        assert options["shard_units"] == "8"
        assert all(variant.status == "ok" for variant in run.variants), run.variants
    # A variant's two builders ran on one engine: their ratio compares builders, not machines.
    engine_of = {
        (variant.name, run.provenance.engine.builder): run.provenance.engine.docker_host
        for run in runs
        for variant in run.variants
    }
    for name in VARIANTS:
        assert engine_of[(name, "classic")] == engine_of[(name, "buildkit")]


def test_nothing_of_the_runs_is_left_in_either_engine(shards: tuple[list[RunResult], Path]) -> None:
    runs, _ = shards
    for run in runs:
        engine = Engine(run.provenance.engine.docker_host)
        assert engine.images_with_label(f"{labels.RUN_ID}={run.run_id}") == []
        assert engine.containers_with_label(f"{labels.RUN_ID}={run.run_id}") == []


def test_the_merged_report_compares_sizes_across_and_timings_within_engines(
    shards: tuple[list[RunResult], Path],
) -> None:
    _, base = shards
    files = sorted(str(path) for path in base.glob("*/*.json"))
    out = base / "merged" / "merged.md"
    done = _bench("merge", *files, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text()
    assert "**Complete**: the shards of the run split 2 ways cover all 8 of its work units" in text
    sizes = _section(text, "Image size per base")
    for name in VARIANTS:  # one size table with every variant from both engines
        assert re.search(rf"^\| \S+ +\| {re.escape(name)} ", sizes, re.MULTILINE), name
    timing = _section(text, "First build vs rebuild after a code edit")
    assert timing.count("Engine 20.10.24") == 1 and timing.count("Engine 26.") == 1
    builders = _section(text, "Classic builder vs BuildKit")
    ratios = [line for line in builders.splitlines() if re.search(r"\| \d+\.\d\d +\|$", line)]
    assert len(ratios) >= len(VARIANTS)  # each variant's ratio, within its own engine
    # A shard missing: the merge says so and fails, and still writes what was measured.
    partial = _bench("merge", *files[:2], "--out", str(base / "partial" / "merged.md"))
    assert partial.returncode == 1
    assert "incomplete: the run split 2 ways covers 4 of 8 work units" in partial.stderr
    assert (base / "partial" / "merged.md").is_file()


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]
