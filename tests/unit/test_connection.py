"""The build settings a run's engine implies: the lab's wheelhouse and host network."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from bench.engine.client import Engine
from bench.errors import BenchError
from bench.lab.paths import LabPaths
from bench.run.connection import (
    BuildSettings,
    Connection,
    build_settings,
    engine_choice,
    wheel_index,
)

PATHS = LabPaths(Path("/lab"), Path("/cache"))
NO_ENGINE = cast(Engine, object())  # build_settings never talks to the engine


def _connection(mode: str) -> Connection:
    return Connection(NO_ENGINE, mode, PATHS)


def test_the_lab_builds_from_its_wheelhouse_on_the_host_network() -> None:
    settings = build_settings(_connection("lab"), build_args={"A": "1"})
    assert settings == BuildSettings(
        {"A": "1", "PIP_FIND_LINKS": PATHS.wheelhouse_url, "PIP_NO_INDEX": "1"}, "host"
    )


def test_a_users_engine_gets_only_what_was_asked() -> None:
    assert build_settings(_connection("online")) == BuildSettings({}, None)
    settings = build_settings(
        _connection("online"), network="none", python_version="3.13", pip_index_url="http://i/"
    )
    assert settings == BuildSettings(
        {"PYTHON_VERSION": "3.13", "PIP_INDEX_URL": "http://i/"}, "none"
    )


def test_an_index_url_replaces_the_wheelhouse_and_a_network_the_host() -> None:
    settings = build_settings(_connection("lab"), network="bridge", pip_index_url="http://i/")
    assert settings == BuildSettings({"PIP_INDEX_URL": "http://i/"}, "bridge")


def test_the_callers_build_args_are_copied_not_changed() -> None:
    given = {"A": "1"}
    build_settings(_connection("lab"), build_args=given)
    assert given == {"A": "1"}


def test_the_wheel_check_asks_the_index_the_builds_use() -> None:
    assert wheel_index(_connection("online")) == "https://pypi.org/simple/"
    # pip in a stand-in base asks the lab's PyPI proxy (its /etc/pip.conf).
    assert wheel_index(_connection("lab")) == "http://127.0.0.1:5081/index/"
    assert wheel_index(_connection("lab"), pip_index_url="http://i/") == "http://i/"
    chosen = wheel_index(_connection("lab"), chosen="http://w/", pip_index_url="http://i/")
    assert chosen == "http://w/"


@pytest.mark.parametrize(
    "text", ["20.10", "26", "unix:///run/docker.sock", "tcp://build-1:2376", "ssh://ci@build-2"]
)
def test_an_engine_is_a_lab_name_or_a_docker_host(text: str) -> None:
    assert engine_choice(f" {text} ") == text


@pytest.mark.parametrize("text", ["25", "build-1:2376", "docker.sock", ""])
def test_anything_else_is_one_line_naming_both_forms(text: str) -> None:
    with pytest.raises(BenchError) as raised:
        engine_choice(text)
    assert "a lab engine (20.10, 26) or a Docker host address" in raised.value.message
    assert "\n" not in raised.value.message
