"""The real harness on a tiny two-variant manifest: edit re-runs only what it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import manifest, storage
from bench.engine import labels
from bench.engine.client import Engine
from bench.run import session as benchmark
from bench.run.measure import RunOptions
from bench.run.progress import SilentProgress
from tests.docker.tiny_project import write_tiny_project
from tests.tree import tree_digest

pytestmark = pytest.mark.docker


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_project(tmp_path)


def _all_image_ids(engine: Engine) -> set[str]:
    return set(engine._api.images(all=True, quiet=True))


def test_edit_reruns_dependencies_only_in_the_naive_variant(engine: Engine, tiny: Path) -> None:
    before = tree_digest(tiny / "app")
    images_before = _all_image_ids(engine)
    loaded = manifest.load(tiny / "variants.toml")
    request = benchmark.RunRequest(
        manifest=loaded,
        variants=loaded.variants,
        options=RunOptions(repeat=2, compressed=True),
        out_dir=tiny / "results",
    )
    result, path, exit_code = benchmark.run(request, SilentProgress())

    assert exit_code == 0, [(v.name, v.reason) for v in result.variants]
    assert storage.load(path) == result and result.complete
    by_name = {v.name: v for v in result.variants}
    for name, expect_pip in (("ordered", False), ("naive", True), ("staged", False)):
        edits = [s for s in by_name[name].samples if s.scenario == "edit"]
        assert len(edits) == 2
        for sample in edits:
            rerun = [step.instruction for step in sample.rerun_steps]
            assert any("pip install" in step for step in rerun) == expect_pip, rerun
        noops = [s for s in by_name[name].samples if s.scenario == "noop"]
        assert all(s.rerun_steps == () for s in noops), [s.rerun_steps for s in noops]
    ordered_edit = next(s for s in by_name["ordered"].samples if s.scenario == "edit")
    assert ordered_edit.rerun_steps[0].instruction == "COPY main.py ./"

    image = by_name["ordered"].image
    assert image is not None and image.base_is_standin in (True, False)
    assert image.size_bytes > 50_000_000
    assert image.compressed_bytes is not None and 0 < image.compressed_bytes < image.size_bytes
    context = by_name["ordered"].context
    assert context is not None and context.ignored_files >= 1 and context.ignored_bytes >= 100_000
    # The user's files are byte-identical; nothing of the run is left in the engine.
    assert tree_digest(tiny / "app") == before
    assert engine.images_with_label(f"{labels.RUN_ID}={result.run_id}") == []
    # Not even the earlier stage's images, which carry no label of the run's, nor the
    # intermediate images of any build.
    assert _all_image_ids(engine) <= images_before
