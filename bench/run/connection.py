"""The engine a run builds on (the lab's private one, or the user's) and the build settings
that follow from which it is. `bench run` and `bench perf` both decide them here, so the
two build with the same arguments and network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.engine.client import DOCKER_HOST_SCHEMES, Engine
from bench.errors import BenchError
from bench.lab import control
from bench.lab.paths import ENGINE_NAMES, PYPI_PROXY_URL, LabPaths
from bench.wheels.index import PYPI_SIMPLE_URL


@dataclass(frozen=True)
class Connection:
    """An engine to build on, which kind it is, and where the lab keeps its files."""

    engine: Engine
    mode: str  # "lab": the lab's private engine; "online": DOCKER_HOST or Docker's default
    paths: LabPaths


@dataclass(frozen=True)
class BuildSettings:
    """What every build of a run is given: build arguments and the network."""

    build_args: dict[str, str]
    network: str | None


def engine_choice(text: str) -> str:
    """An `--engine` value checked: a lab engine's name, or a Docker host address."""
    value = text.strip()
    if value in ENGINE_NAMES or value.startswith(DOCKER_HOST_SCHEMES):
        return value
    names = ", ".join(ENGINE_NAMES)
    raise BenchError(
        f"--engine {text!r}: expected a lab engine ({names}) or a Docker host address "
        "such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host"
    )


def connect(choice: str | None = None) -> Connection:
    """Connect to `choice`: a lab engine's name or a Docker host address; without one, to
    DOCKER_HOST if set, else the running lab's default engine, else Docker's default."""
    paths = LabPaths.default()
    if choice is None:
        docker_host = control.resolve_docker_host(paths)
    elif choice in ENGINE_NAMES:
        docker_host = control.lab_docker_host(paths, choice)
        if docker_host is None:
            raise BenchError(
                f"the lab's Engine {choice} is not running; start it with "
                f"`python -m bench lab up --engine {choice}`"
            )
    else:
        docker_host = engine_choice(choice)
    engine = Engine(docker_host)
    lab_hosts = {paths.docker_host_of(name) for name in ENGINE_NAMES}
    mode = "lab" if docker_host in lab_hosts else "online"
    return Connection(engine, mode, paths)


def build_settings(
    connection: Connection,
    *,
    build_args: Mapping[str, str] | None = None,
    network: str | None = None,
    python_version: str | None = None,
    pip_index_url: str | None = None,
) -> BuildSettings:
    """The user's build arguments and network, with what the engine's kind needs added."""
    settings: dict[str, str] = dict(build_args or {})
    if python_version:
        settings["PYTHON_VERSION"] = python_version
    if pip_index_url:
        settings["PIP_INDEX_URL"] = pip_index_url
    elif connection.mode == "lab":
        # pip in the build cannot reach PyPI here: the lab's wheelhouse on loopback.
        settings["PIP_FIND_LINKS"] = connection.paths.wheelhouse_url
        settings["PIP_NO_INDEX"] = "1"
    if connection.mode == "lab":
        # The lab engine has no bridge: builds use the host network (BuildKit's RUN fails
        # with "network bridge not found" otherwise).
        network = network or "host"
    return BuildSettings(settings, network)


def wheel_index(
    connection: Connection, *, chosen: str | None = None, pip_index_url: str | None = None
) -> str:
    """The index the wheel check asks: the one chosen (`--wheel-index`), else the builds'
    own (`--pip-index-url`), else the lab's PyPI proxy in the lab (what pip in a stand-in
    base asks), else PyPI."""
    if chosen:
        return chosen
    if pip_index_url:
        return pip_index_url
    return PYPI_PROXY_URL if connection.mode == "lab" else PYPI_SIMPLE_URL
