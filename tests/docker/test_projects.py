"""tests/projects measured in the lab, as a user would: one `bench run` of their manifest,
then each variant's row checked against tests/projects/expected.toml (build, smoke test,
edit rebuild, dependency reinstall). The projects' tree is never touched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import storage
from bench.engine import labels
from bench.engine.client import Engine
from tests.project_set import LAB_BASES, MANIFEST, ROOT, expectations
from tests.tree import tree_digest

# Once, on the default engine: the projects exercise the harness, not the engine (the same
# code runs on Engine 26, and CI time is bounded).
pytestmark = [pytest.mark.docker, pytest.mark.lab_engines("20.10")]

REPO = Path(__file__).resolve().parents[2]
EXPECTED = expectations()


@pytest.fixture(scope="module")
def results(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of every project: a cold build and an edit rebuild each, smoke-tested."""
    out = tmp_path_factory.mktemp("projects")
    before = tree_digest(ROOT)
    command = [sys.executable, "-m", "bench", "run", "--manifest", str(MANIFEST)]
    for mapping in LAB_BASES:
        command += ["--lab-base", mapping]
    command += ["--repeat", "1", "--scenario", "cold", "--scenario", "edit", "--no-compressed"]
    command += ["--out", str(out / "results"), "--report-dir", str(out / "reports")]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=1500, check=False, cwd=REPO
    )
    # Exit 1: some variants failed, as two of them must; anything else is the harness's fault.
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    assert tree_digest(ROOT) == before, "the run changed the projects' files"
    (path,) = (out / "results").glob("*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    assert (out / "reports" / "latest.md").is_file()
    assert engine.images_with_label(f"{labels.RUN_ID}={data['run_id']}") == []
    assert engine.containers_with_label(f"{labels.RUN_ID}={data['run_id']}") == []
    return data


def _variant(results: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [v for v in results["variants"] if v["name"] == name]
    assert len(found) == 1, name
    return found[0]


def _first_ok(variant: dict[str, Any], scenario: str) -> dict[str, Any]:
    samples: list[dict[str, Any]] = [s for s in variant["samples"] if s["scenario"] == scenario]
    assert samples, f"no {scenario} sample"
    assert samples[0]["ok"], samples[0]["error"]
    return samples[0]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_project_gets_its_expected_outcome(results: dict[str, Any], name: str) -> None:
    expected = EXPECTED[name]
    variant = _variant(results, name)
    if not expected.builds:
        assert variant["status"] == "failed"
        cold = [s for s in variant["samples"] if s["scenario"] == "cold"]
        assert cold and not cold[0]["ok"]
        # The row's reason names the cause, not only that pip's command failed.
        assert expected.build_error in variant["reason"], variant["reason"]
        return
    _first_ok(variant, "cold")
    edit = _first_ok(variant, "edit")
    rerun = [step for step in edit["steps"] if not step["cached"]]
    assert rerun, "the edit re-ran nothing"
    counted = [s for s in rerun if not s["instruction"].upper().startswith(("FROM ", "ARG "))]
    assert counted[0]["instruction"].startswith(expected.edit_reruns_first), counted[0]
    override = variant["dependency_override"]
    assert override["installs"] == (["make deps"] if name == "make-deps" else [])
    smoke = variant["smoke"]
    if expected.smoke == "passes":
        assert variant["status"] == "ok", variant["reason"]
        assert smoke["ok"], (smoke["reason"], smoke["log_tail"])
    else:
        assert variant["status"] == "failed" and not smoke["ok"]
        for text in expected.smoke_reason:
            assert text in smoke["reason"], smoke["reason"]


def test_the_report_says_which_edits_reinstalled_dependencies(results: dict[str, Any]) -> None:
    # The rule the report's column and the gate apply, on the results file as written.
    run = storage.from_dict(results, Path("projects.json"))
    for variant in run.variants:
        edits = [s for s in variant.samples if s.scenario == "edit" and s.ok]
        if not edits:
            continue
        reinstalled = bool(variant.reinstalled_dependencies(edits[0]))
        assert reinstalled is EXPECTED[variant.name].reinstalls_dependencies, variant.name
