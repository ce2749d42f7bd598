"""A named buildx builder (`--buildx-builder NAME`): which driver it runs on and where the
images it builds end up.

A builder on the `docker` driver is an engine's own BuildKit: it builds into that engine,
so it must be the engine the run measures. Any other driver (`docker-container`, `remote`,
`kubernetes`) is a BuildKit of its own: its images reach the measured engine only through
`--load`, which the build then includes, as it does for the user who builds that way.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from bench.engine.client import DOCKER_HOST_SCHEMES
from bench.errors import BenchError

_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class NamedBuilder:
    """What `docker buildx inspect NAME` says of a builder, and what that means for a run."""

    name: str
    driver: str
    endpoint: str  # the first node's: a Docker host, a context's name, or BuildKit's address

    @property
    def loads(self) -> bool:
        """True when its images must be loaded into the engine (`--load`)."""
        return self.driver != "docker"

    def describe(self) -> str:
        return f"{self.name} ({self.driver} driver)"


def parse_inspect(name: str, text: str) -> NamedBuilder:
    """The builder `docker buildx inspect` describes (its `Driver:` and first `Endpoint:`)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        key = key.strip()
        if colon and key in ("Driver", "Endpoint") and key not in fields:
            fields[key] = value.strip()
    if "Driver" not in fields:
        raise BenchError(f"buildx builder {name!r}: `docker buildx inspect` named no driver")
    return NamedBuilder(name, fields["Driver"], fields.get("Endpoint", ""))


def inspect(cli: str, env: Mapping[str, str], name: str) -> NamedBuilder:
    """The named builder, or one error line saying why it cannot be used."""
    answer = _run(cli, env, ["buildx", "inspect", name])
    if answer.returncode != 0:
        reason = _first_line(answer.stderr) or f"exit code {answer.returncode}"
        raise BenchError(
            f"buildx builder {name!r}: {reason} (`docker buildx ls` lists the builders; "
            "`docker buildx create` makes one)"
        )
    return parse_inspect(name, answer.stdout)


def docker_host_of(cli: str, env: Mapping[str, str], builder: NamedBuilder) -> str:
    """The Docker host a `docker`-driver builder builds in: its endpoint, or the host of the
    docker context it names."""
    if builder.endpoint.startswith(DOCKER_HOST_SCHEMES):
        return builder.endpoint
    answer = _run(
        cli,
        env,
        ["context", "inspect", builder.endpoint, "--format", "{{.Endpoints.docker.Host}}"],
    )
    host = answer.stdout.strip()
    if answer.returncode != 0 or not host:
        reason = _first_line(answer.stderr) or "no Docker host"
        raise BenchError(
            f"buildx builder {builder.name!r}: its docker context {builder.endpoint!r} "
            f"cannot be read ({reason})"
        )
    return host


def check_target(cli: str, env: Mapping[str, str], builder: NamedBuilder, docker_host: str) -> None:
    """Fail when a `docker`-driver builder would build into another engine than the one
    measured: its images would never reach the run (and its timings are that engine's)."""
    if builder.loads:
        return
    builds_in = docker_host_of(cli, env, builder)
    if builds_in.rstrip("/") != docker_host.rstrip("/"):
        raise BenchError(
            f"buildx builder {builder.name!r} is the docker driver of {builds_in}: it builds "
            f"in that engine, not in {docker_host}; measure that engine (--engine {builds_in})"
        )


def _run(
    cli: str, env: Mapping[str, str], arguments: list[str]
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [cli, *arguments],
            env=dict(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"`docker {' '.join(arguments)}` did not answer in 30 s") from error
    except OSError as error:
        raise BenchError(f"cannot run {cli}: {error.strerror or error}") from error


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0].removeprefix("ERROR: ") if lines else ""
