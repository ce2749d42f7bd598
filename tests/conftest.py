"""Shared fixtures. Docker tests need an engine: without one they are skipped locally and
fail in CI (CI=true), where a missing engine is a broken setup, never a pass.

BENCH_TEST_ENGINE=26 runs the docker tests against the lab's Engine 26 (containerd image
store) instead of its default engine: DOCKER_HOST is set to it for this process and every
`python -m bench` the tests start. A test that makes sense on some lab engines only says so
with `@pytest.mark.lab_engines("20.10")`; on another engine it is deselected, and the run's
header lists it, never skipped in silence.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.engine.client import Engine
from bench.lab import control
from bench.lab.paths import DEFAULT_ENGINE, ENGINE_NAMES, EngineName, LabPaths

REPO = Path(__file__).resolve().parent.parent


def test_engine() -> EngineName:
    """The lab engine the docker tests run against (BENCH_TEST_ENGINE, else the default)."""
    name = os.environ.get("BENCH_TEST_ENGINE") or DEFAULT_ENGINE
    for known in ENGINE_NAMES:
        if name == known:
            return known
    raise pytest.UsageError(f"BENCH_TEST_ENGINE={name}: expected one of {', '.join(ENGINE_NAMES)}")


test_engine.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def _docker_host() -> str | None:
    if "BENCH_TEST_ENGINE" in os.environ:
        return control.lab_docker_host(LabPaths.default(), test_engine())
    return control.resolve_docker_host()


def pytest_configure(config: pytest.Config) -> None:
    # A process started in the background by a non-interactive shell (nohup, some CI
    # runners) inherits SIGINT ignored, and so would every `bench` the tests start: the
    # interrupt tests would then interrupt nothing. Python's own handler, as a terminal has.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if "BENCH_TEST_ENGINE" not in os.environ:
        return
    host = _docker_host()
    if host is None:
        message = (
            f"BENCH_TEST_ENGINE={test_engine()} but that lab engine is not running "
            f"(`python -m bench lab up --engine {test_engine()}`)"
        )
        raise pytest.UsageError(message)
    # Every `python -m bench` a test starts builds there too.
    os.environ["DOCKER_HOST"] = host


def pytest_report_header(config: pytest.Config) -> str:
    return f"docker tests against: {_docker_host() or 'no engine'} (lab engine {test_engine()})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    deselected = getattr(terminalreporter.config, "_other_engines_only", [])
    if deselected:
        terminalreporter.write_line(
            f"deselected on lab engine {test_engine()} (marked for other lab engines only): "
            + ", ".join(deselected)
        )


def _deselect_other_engines(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine = test_engine()
    other = [
        item
        for item in items
        if (marker := item.get_closest_marker("lab_engines")) and engine not in marker.args
    ]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if item not in other]
        config._other_engines_only = [item.nodeid for item in other]  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _deselect_other_engines(config, items)
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
