"""Fault-suite fixtures: a user's image (with its build cache), container and volume, made
before the suite and checked untouched after it; and a helper to run the CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.engine import labels
from bench.engine.client import Engine

FOREIGN_TAG = "someone-else/faults-precious:1"


@dataclass(frozen=True)
class Foreign:
    image_id: str
    cache_ids: frozenset[str]
    container_id: str
    volume: str


@pytest.fixture(scope="session")
def foreign(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Foreign]:
    context = tmp_path_factory.mktemp("foreign")
    (context / "Dockerfile").write_text(
        'FROM python:3.11-slim\nRUN echo one > /one\nRUN echo two > /two\nCMD ["sleep", "1"]\n'
    )
    outcome = engine.build(context, context / "Dockerfile", FOREIGN_TAG, nocache=False)
    assert outcome.ok, outcome.error
    api = engine._api
    # The user's build cache: the classic builder's intermediate images under their image
    # (only these: other tools on a shared engine may add and remove their own meanwhile).
    chain: list[str] = []
    parent = str(api.inspect_image(str(outcome.image_id)).get("Parent") or "")
    while parent:
        chain.append(parent)
        parent = str(api.inspect_image(parent).get("Parent") or "")
    cache_ids = frozenset(chain)
    container = api.create_container(FOREIGN_TAG, ["sleep", "3600"])
    volume = api.create_volume(name="someone-else-faults-volume")["Name"]
    made = Foreign(str(outcome.image_id), cache_ids, str(container["Id"]), str(volume))
    yield made
    assert engine.image_id(FOREIGN_TAG) == made.image_id
    still = {str(i["Id"]) for i in api.images(all=True)}
    assert made.cache_ids <= still, "a build-cache entry of the user's was removed"
    assert api.inspect_container(made.container_id)["Id"] == made.container_id
    assert api.inspect_volume(made.volume)["Name"] == made.volume
    api.remove_container(made.container_id, force=True)
    api.remove_volume(made.volume)
    engine.remove_image(FOREIGN_TAG)


@pytest.fixture(autouse=True)
def nothing_of_ours_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every docker fault test: no container of any run of ours is left."""
    yield
    if request.node.get_closest_marker("docker") is None:
        return
    engine: Engine = request.getfixturevalue("engine")
    assert engine.containers_with_label(labels.RUN_ID) == []


def bench(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


REPO = Path(__file__).resolve().parents[2]
