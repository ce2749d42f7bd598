"""Shared fixtures. Docker tests need an engine: without one they are skipped locally and
fail in CI (CI=true), where a missing engine is a broken setup, never a pass.

BENCH_TEST_ENGINE=26 (a lab engine's name) runs them on that lab engine: DOCKER_HOST is set
to it for the whole session, so the tests, the runs they start and the bench commands they
spawn all build there. Unset: DOCKER_HOST, else the running lab's default engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.engine.client import Engine
from bench.errors import BenchError
from bench.lab import control
from bench.lab.paths import LabPaths

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get("BENCH_TEST_ENGINE")
    if not name:
        return
    try:
        (engine,) = control.engine_names([name])
    except (BenchError, ValueError):
        raise pytest.UsageError(f"BENCH_TEST_ENGINE={name!r} names no lab engine") from None
    # Its socket even when it is down: then no engine answers, and CI fails as it should
    # rather than quietly testing another engine.
    os.environ["DOCKER_HOST"] = LabPaths.default().docker_host_of(engine)


def _docker_host() -> str | None:
    return control.resolve_docker_host()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("docker") for item in items):
        return
    if Engine.reachable(_docker_host()):
        return
    message = (
        "no Docker engine answers (run `python -m bench lab up` or `nox -s tests`, "
        "which brings the lab up)"
    )
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(f"CI=true and {message}: docker tests must run in CI")
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.skip(reason=message))


@pytest.fixture(scope="session")
def docker_host() -> str | None:
    return _docker_host()


@pytest.fixture(scope="session")
def engine(docker_host: str | None) -> Iterator[Engine]:
    connected = Engine(docker_host)
    yield connected
    connected.close()
