"""The GitHub workflows are pinned and keep no credentials (issue #21).

`nox -s lint` checks them against GitHub's workflow schema (check-jsonschema) and with zizmor;
these tests keep the rules that matter most without either tool or the network: every action
pinned to a full commit SHA with its tag in a comment, checkout without persisted credentials,
explicit permissions, and no `${{ }}` expression inside a `run:` script (inputs reach scripts
through `env:`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).parents[2] / ".github" / "workflows"
FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
# owner/repo[/path]@<40 hex> # vX.Y.Z
_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
_TAG_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+\s*$")


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path.name}: not a mapping"
    return document


def _triggers(document: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    triggers = document.get("on", document.get(True))
    assert isinstance(triggers, dict)
    return triggers


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_the_workflows_are_found() -> None:
    names = {path.name for path in FILES}
    assert {"size-check.yml", "bench-matrix.yml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_tag(path: Path) -> None:
    uses = [step["uses"] for step in _steps(_load(path)) if "uses" in step]
    assert uses, f"{path.name}: no actions"
    for ref in uses:
        assert _PINNED.match(ref), f"{path.name}: {ref} is not pinned to a 40-hex commit SHA"
    # The tag the SHA was, as a comment on the same line (what a reader and Dependabot use).
    lines = [m for line in path.read_text().splitlines() if (m := _USES_LINE.match(line))]
    assert len(lines) == len(uses)
    for match in lines:
        assert _TAG_COMMENT.match(match["rest"]), f"{path.name}: {match['ref']} has no # vX.Y.Z"


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_checkout_does_not_persist_credentials(path: Path) -> None:
    checkouts = [
        step for step in _steps(_load(path)) if step.get("uses", "").startswith("actions/checkout@")
    ]
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, path.name


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_permissions_are_explicit(path: Path) -> None:
    document = _load(path)
    assert "permissions" in document, f"{path.name}: no workflow-level permissions"
    for name, job in document["jobs"].items():
        permissions = job.get("permissions", document["permissions"])
        # Read access at most: nothing here pushes, comments or publishes.
        assert permissions in ({}, {"contents": "read"}), f"{path.name}: job {name}"


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_no_expression_inside_run_scripts(path: Path) -> None:
    for step in _steps(_load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name', step)}"


def test_bench_matrix_shards_then_merges() -> None:
    document = _load(WORKFLOWS / "bench-matrix.yml")
    triggers = _triggers(document)
    assert {"workflow_call", "workflow_dispatch"} <= set(triggers)
    assert (
        triggers["workflow_call"]["inputs"].keys() == triggers["workflow_dispatch"]["inputs"].keys()
    )
    jobs = document["jobs"]
    shard_runs = [step["run"] for step in jobs["shard"]["steps"] if "run" in step]
    assert any('--shard "$SHARD/$SHARDS"' in run for run in shard_runs)
    assert jobs["merge"]["needs"] == "shard"
    merge_runs = "\n".join(step["run"] for step in jobs["merge"]["steps"] if "run" in step)
    assert "python -m bench merge results/*/*.json --out merged/report.md" in merge_runs
    assert 'exit "$status"' in merge_runs  # an incomplete merge fails the job, after the report
    assert '>> "$GITHUB_STEP_SUMMARY"' in merge_runs
