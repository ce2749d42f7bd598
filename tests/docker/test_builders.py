"""Both builders on one variant: an edit re-runs the same filesystem steps in each, and
BuildKit's per-step records (through buildx's rawjson where the CLI has buildx: on Engine
26's lab, always) say which steps were cached and how long each took."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import manifest
from bench.engine import labels
from bench.engine.client import Engine
from bench.models import RunResult, Sample
from bench.run import session as benchmark
from bench.run.measure import RunOptions
from bench.run.progress import SilentProgress
from tests.docker.tiny_project import write_tiny_project

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
# Steps that change the filesystem: BuildKit does not list metadata-only ones (ENV, CMD...).
_FILESYSTEM = ("COPY", "ADD", "RUN", "WORKDIR")


def _run(builder: str, out: Path) -> RunResult:
    # The naive variant of a tiny project: the edit re-runs its pip install in both builders,
    # on a dependency that installs in a second rather than the sample app's minutes.
    loaded = manifest.load(write_tiny_project(out / "project") / "variants.toml")
    request = benchmark.RunRequest(
        manifest=loaded,
        variants=loaded.select(["naive"]),
        options=RunOptions(repeat=1, scenarios=("cold", "edit", "noop"), compressed=False),
        out_dir=out,
        builder=builder,
    )
    result, _, exit_code = benchmark.run(request, SilentProgress())
    assert exit_code == 0, [(v.name, v.reason) for v in result.variants]
    return result


def _sample(result: RunResult, scenario: str) -> Sample:
    (sample,) = [s for s in result.variants[0].samples if s.scenario == scenario]
    assert sample.ok, (sample.error, sample.log_tail)
    return sample


def _rerun(result: RunResult) -> list[str]:
    return [
        " ".join(s.instruction.split())
        for s in _sample(result, "edit").rerun_steps
        if s.instruction.split()[0].upper() in _FILESYSTEM
    ]


def _check_buildkit_steps(result: RunResult) -> None:
    """No-op: every step cached; edit: the COPY of the code and every step after it ran."""
    noop = _sample(result, "noop")
    assert noop.steps and all(s.cached for s in noop.steps), noop.steps
    edit = _sample(result, "edit").steps
    first = next(i for i, s in enumerate(edit) if not s.cached)
    assert edit[first].instruction.startswith("COPY . ."), edit
    assert all(s.cached for s in edit[:first]) and not any(s.cached for s in edit[first:])
    cold = _sample(result, "cold")
    pip = next(s for s in cold.steps if "pip install" in s.instruction)
    assert not pip.cached and pip.duration_seconds > 0.1, pip
    # Vertex times, not guesses: together within the build's own wall time.
    assert cold.duration_seconds is not None
    assert sum(s.duration_seconds for s in cold.steps) <= cold.duration_seconds


def test_edit_reruns_the_same_steps_with_both_builders(engine: Engine, tmp_path: Path) -> None:
    cache_before = engine.build_cache_ids()
    classic = _run("sdk", tmp_path / "classic")
    buildkit = _run("buildkit", tmp_path / "buildkit")
    assert classic.provenance.engine.builder == "classic"
    assert classic.provenance.engine.buildkit_version is None
    assert buildkit.provenance.engine.builder == "buildkit"
    client = buildkit.provenance.engine.buildkit_version
    assert client is not None
    if buildkit.provenance.engine.server_version.startswith("26."):
        # The lab links engine 26's buildx in while engine 26 is up: rawjson, not plain.
        assert client.startswith("github.com/docker/buildx "), client
    assert _rerun(classic) == _rerun(buildkit)
    assert any("pip install" in step for step in _rerun(buildkit))
    _check_buildkit_steps(buildkit)
    for run in (classic, buildkit):
        # The cold build's image is analysed after the edit and no-op builds moved the tag
        # on (on the containerd store BuildKit deletes the image a tag leaves): on both.
        image = run.variants[0].image
        assert image is not None and image.analysis is not None, run.provenance.engine.builder
        assert image.size_bytes == image.analysis.size_bytes + image.analysis.symlink_bytes
        assert engine.images_with_label(f"{labels.RUN_ID}={run.run_id}") == []
        assert not [t for t in engine.tagged_images() if run.run_id in t]
    # BuildKit cache records of the run are gone; the ones that were there are still there.
    assert engine.build_cache_ids() == cache_before
