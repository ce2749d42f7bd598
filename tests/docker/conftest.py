"""Docker-test fixtures: a foreign image and container that every test run must leave alone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.engine import labels
from bench.engine.client import Engine

FOREIGN_TAG = "someone-else/precious:1"


@pytest.fixture(scope="session", autouse=True)
def foreign_resources(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A user's image and container made before our tests (no harness labels on them)."""
    context = tmp_path_factory.mktemp("foreign")
    (context / "Dockerfile").write_text("FROM python:3.11-slim\nRUN echo mine > /mine\n")
    outcome = engine.build(context, context / "Dockerfile", FOREIGN_TAG, nocache=False)
    assert outcome.ok, outcome.error
    api = engine._api
    container = api.create_container(FOREIGN_TAG, ["sleep", "3600"], name=None)
    image_id = str(outcome.image_id)
    yield image_id, str(container["Id"])
    # Everything of the user's is still there after all our tests, then we tidy our fixture.
    assert engine.image_id(FOREIGN_TAG) == image_id
    assert api.inspect_container(container["Id"])["Id"] == container["Id"]
    api.remove_container(container["Id"], force=True)
    engine.remove_image(FOREIGN_TAG)


REPO = Path(__file__).resolve().parents[2]


@contextmanager
def images_built(
    engine: Engine, run_id: str, builds: Mapping[str, tuple[Path, Path, Mapping[str, str]]]
) -> Iterator[dict[str, str]]:
    """Build each (context, Dockerfile, build args) as `dockerfile-bench/test-RUN_ID:NAME`;
    remove the tags and whatever the builds left, and check no container of the run is left."""
    built: dict[str, str] = {}
    leftovers: list[str] = []
    try:
        for name, (context, dockerfile, buildargs) in builds.items():
            tag = f"dockerfile-bench/test-{run_id}:{name}"
            outcome = engine.build(
                context,
                dockerfile,
                tag,
                nocache=False,
                buildargs=dict(buildargs),
                labels=labels.for_run(run_id),
            )
            leftovers.extend(outcome.unreachable_images)
            assert outcome.ok, outcome.error
            built[name] = tag
        yield built
    finally:
        for reference in (*built.values(), *leftovers):
            engine.remove_image(reference)
        assert engine.containers_with_label(f"{labels.RUN_ID}={run_id}") == []
