"""Both builders on one variant: an edit re-runs the same filesystem steps in each."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import manifest
from bench.engine import labels
from bench.engine.client import Engine
from bench.models import RunResult
from bench.run import session as benchmark
from bench.run.measure import RunOptions
from bench.run.progress import SilentProgress

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
# Steps that change the filesystem: BuildKit does not list metadata-only ones (ENV, CMD...).
_FILESYSTEM = ("COPY", "ADD", "RUN", "WORKDIR")


def _run(builder: str, out: Path) -> RunResult:
    loaded = manifest.load()
    request = benchmark.RunRequest(
        manifest=loaded,
        variants=loaded.select(["naive"]),
        options=RunOptions(repeat=1, scenarios=("cold", "edit"), compressed=False),
        out_dir=out,
        builder=builder,
    )
    result, _, exit_code = benchmark.run(request, SilentProgress())
    assert exit_code == 0, [(v.name, v.reason) for v in result.variants]
    return result


def _rerun(result: RunResult) -> list[str]:
    (edit,) = [s for s in result.variants[0].samples if s.scenario == "edit"]
    return [
        " ".join(s.instruction.split())
        for s in edit.rerun_steps
        if s.instruction.split()[0].upper() in _FILESYSTEM
    ]


def test_edit_reruns_the_same_steps_with_both_builders(engine: Engine, tmp_path: Path) -> None:
    cache_before = engine.build_cache_ids()
    classic = _run("sdk", tmp_path / "classic")
    buildkit = _run("buildkit", tmp_path / "buildkit")
    assert classic.provenance.engine.builder == "classic"
    assert buildkit.provenance.engine.builder == "buildkit"
    assert _rerun(classic) == _rerun(buildkit)
    assert any("pip install" in step for step in _rerun(buildkit))
    for run in (classic, buildkit):
        assert engine.images_with_label(f"{labels.RUN_ID}={run.run_id}") == []
    # BuildKit cache records of the run are gone; the ones that were there are still there.
    assert engine.build_cache_ids() == cache_before
