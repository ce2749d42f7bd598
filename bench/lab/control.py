"""`lab up | status | down`: decide online vs private lab, and bring the lab's pieces up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.engine import labels
from bench.engine.client import Engine
from bench.errors import BenchError
from bench.lab import config, processes, standins, volume, wheelhouse
from bench.lab.paths import REGISTRY_ADDRESS, LabPaths

ONLINE_PROBE_IMAGE = "python:3.11-slim"
# Each lab service: (pid-file name, the executable name the pid must belong to).
_SERVICES = {"registry": "docker-registry", "dockerd": "dockerd", "wheelhouse": "http.server"}
_APT_PACKAGES = {
    "dockerd": "docker.io",
    "docker-registry": "docker-registry",
    "debootstrap": "debootstrap",
}


@dataclass(frozen=True)
class LabState:
    """What `lab up` found or made; `status` prints it, results record it."""

    mode: str  # "online" (a reachable engine with Docker Hub) or "lab"
    docker_host: str
    registry: str | None
    wheelhouse_url: str | None
    bases: tuple[tuple[str, str], ...]  # (reference, where it came from)
    storage: str = ""  # what the lab engine's data-root is (bench/lab/volume.py)


def lab_docker_host(paths: LabPaths | None = None) -> str | None:
    """The lab engine's DOCKER_HOST when the lab's dockerd runs, else None."""
    paths = paths or LabPaths.default()
    if processes.running_pid(paths.pid_file("dockerd"), "dockerd") is None:
        return None
    return paths.docker_host


def resolve_docker_host(paths: LabPaths | None = None) -> str | None:
    """DOCKER_HOST if the user set one; else the running lab; else Docker's default."""
    explicit = os.environ.get("DOCKER_HOST")
    if explicit:
        return explicit
    return lab_docker_host(paths)


def _is_lab_host(docker_host: str | None, paths: LabPaths) -> bool:
    return docker_host == paths.docker_host


def up(
    paths: LabPaths,
    requirement_files: Iterable[Path],
    debian_mirror: str | None = None,
    python_versions: Iterable[str] = wheelhouse.LAB_PYTHON_VERSIONS,
) -> LabState:
    explicit = os.environ.get("DOCKER_HOST")
    if not _is_lab_host(explicit, paths) and Engine.reachable(explicit or None):
        state = _online(explicit or None)
        if state is not None:
            return state
    return _lab_up(paths, list(requirement_files), debian_mirror, tuple(python_versions))


def _online(docker_host: str | None) -> LabState | None:
    engine = Engine(docker_host)
    try:
        outcome = engine.pull(ONLINE_PROBE_IMAGE)
        if not outcome.ok:
            print(
                f"lab: the engine at {docker_host or 'the default socket'} cannot pull "
                f"{ONLINE_PROBE_IMAGE} ({outcome.error}); starting a private lab instead",
                flush=True,
            )
            return None
        return LabState(
            "online",
            docker_host or "default",
            None,
            None,
            ((ONLINE_PROBE_IMAGE, "Docker Hub (or the engine's own mirror)"),),
        )
    finally:
        engine.close()


def _require_lab_host() -> None:
    if os.geteuid() != 0:
        raise BenchError(
            "no usable Docker engine, and the private lab needs root: run `sudo python -m bench "
            "lab up`, or start Docker (https://docs.docker.com/engine/install/) and set DOCKER_HOST"
        )
    if not Path("/etc/debian_version").is_file() or shutil.which("apt-get") is None:
        raise BenchError(
            "no usable Docker engine, and the private lab needs a Debian-family host with "
            "apt-get: start Docker (https://docs.docker.com/engine/install/) and set DOCKER_HOST"
        )


def _install_missing() -> None:
    missing = [package for tool, package in _APT_PACKAGES.items() if config.find_tool(tool) is None]
    if not missing:
        return
    print(f"lab: installing {' '.join(missing)} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
            raise BenchError(f"`{' '.join(command)}` failed: {last[0]}")


def _wait(what: str, ready: Callable[[], bool], timeout_seconds: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
    raise BenchError(
        f"{what} did not come up in {timeout_seconds:.0f} s; "
        f"last log line: {tail[0] if tail else 'none'} (log: {log})"
    )


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _ensure_service(
    paths: LabPaths,
    service: str,
    argv: list[str],
    ready: Callable[[], bool],
    timeout_seconds: float,
) -> None:
    pid_file, log_file = paths.pid_file(service), paths.log_file(service)
    if processes.running_pid(pid_file, _SERVICES[service]) is None:
        if service == "dockerd":
            # dockerd refuses to start over a pid file it did not clean up (a reboot, a kill).
            (paths.lab_dir / "docker.pid").unlink(missing_ok=True)
        processes.start(argv, pid_file, log_file)
    _wait(service, ready, timeout_seconds, log_file)


def _lab_up(
    paths: LabPaths,
    requirement_files: list[Path],
    debian_mirror: str | None,
    python_versions: tuple[str, ...],
) -> LabState:
    _require_lab_host()
    _install_missing()
    for directory in (paths.lab_dir, paths.run_dir, paths.registry_storage, paths.wheelhouse):
        directory.mkdir(parents=True, exist_ok=True)
    paths.daemon_config.write_text(config.render_daemon_config(paths))
    paths.registry_config.write_text(config.registry_config(paths))
    storage = volume.prepare(paths)  # before dockerd starts on the data-root

    _ensure_service(
        paths,
        "registry",
        config.registry_command(paths, config.find_tool("docker-registry") or "docker-registry"),
        lambda: _http_ok(f"http://{REGISTRY_ADDRESS}/v2/"),
        30,
    )
    _ensure_service(
        paths,
        "dockerd",
        config.dockerd_command(paths, config.find_tool("dockerd") or "dockerd"),
        lambda: Engine.reachable(paths.docker_host, timeout_seconds=2),
        90,
    )
    wheelhouse.fill(paths.wheelhouse, requirement_files, python_versions)
    _ensure_service(
        paths,
        "wheelhouse",
        config.wheelhouse_server_command(paths),
        lambda: _http_ok(paths.wheelhouse_url),
        15,
    )

    mirror = debian_mirror or config.debian_mirror_from_apt()
    engine = Engine(paths.docker_host)
    try:
        standins.ensure(engine, paths.rootfs_cache, mirror)
        bases = _bases(engine)
    finally:
        engine.close()
    state = LabState(
        "lab", paths.docker_host, REGISTRY_ADDRESS, paths.wheelhouse_url, bases, storage
    )
    (paths.lab_dir / "state.json").write_text(json.dumps(asdict(state), indent=2) + "\n")
    return state


def _bases(engine: Engine) -> tuple[tuple[str, str], ...]:
    found = []
    for standin in standins.STANDINS:
        image_labels = engine.image_labels(standin.reference)
        if not image_labels:
            found.append((standin.reference, "missing"))
        elif image_labels.get(labels.STANDIN) == "true":
            found.append(
                (standin.reference, f"stand-in: {image_labels.get(labels.STANDIN_SOURCE, '?')}")
            )
        else:
            found.append((standin.reference, "not a stand-in (pulled from elsewhere)"))
    return tuple(found)


def status(paths: LabPaths) -> LabState:
    """The current state, without starting anything."""
    lab_host = lab_docker_host(paths)
    explicit = os.environ.get("DOCKER_HOST")
    if lab_host is None or (explicit and explicit != lab_host):
        host = explicit or None
        if not Engine.reachable(host):
            raise BenchError(
                "no lab is running and no Docker engine answers; run `python -m bench lab up`"
            )
        return LabState("online", host or "default", None, None, ())
    engine = Engine(lab_host)
    try:
        bases = _bases(engine)
    finally:
        engine.close()
    registry = (
        REGISTRY_ADDRESS
        if processes.running_pid(paths.pid_file("registry"), _SERVICES["registry"])
        else None
    )
    wheels = (
        paths.wheelhouse_url
        if processes.running_pid(paths.pid_file("wheelhouse"), _SERVICES["wheelhouse"])
        else None
    )
    return LabState("lab", lab_host, registry, wheels, bases, volume.describe(paths))


def down(paths: LabPaths) -> list[str]:
    """Stop exactly the processes the lab started (by pid file); returns their names."""
    stopped = []
    for service in ("wheelhouse", "dockerd", "registry"):
        if processes.stop(paths.pid_file(service), _SERVICES[service], timeout_seconds=30):
            stopped.append(service)
    volume.trim(paths)  # the volume stays mounted for the next `lab up`
    return stopped
