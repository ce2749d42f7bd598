"""`lab up | status | down`: decide online vs private lab, and bring the lab's pieces up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench.engine import labels
from bench.engine.client import Engine
from bench.errors import BenchError
from bench.lab import config, engine26, processes, pypiproxy, standins, volume, wheelhouse
from bench.lab.paths import (
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    PYPI_PROXY_URL,
    REGISTRY_ADDRESS,
    EngineName,
    LabPaths,
)

ONLINE_PROBE_IMAGE = "python:3.11-slim"
# Each lab service: (pid-file name, the executable name the pid must belong to).
_SERVICES = {
    "registry": "docker-registry",
    "dockerd": "dockerd",
    "wheelhouse": "http.server",
    "pypi-proxy": pypiproxy.PROCESS_NAME,
}
_APT_PACKAGES = {
    "dockerd": "docker.io",
    "docker-registry": "docker-registry",
    "debootstrap": "debootstrap",
}


@dataclass(frozen=True)
class EngineState:
    """One running lab engine, as it describes itself."""

    name: EngineName
    docker_host: str
    version: str
    api_version: str
    image_store: str  # graph driver, or containerd snapshotter (from /info)
    default_builder: str  # what a plain `docker build` uses there (from /_ping)


@dataclass(frozen=True)
class LabState:
    """What `lab up` found or made; `status` prints it, results record it."""

    mode: str  # "online" (a reachable engine with Docker Hub) or "lab"
    docker_host: str
    registry: str | None
    wheelhouse_url: str | None
    bases: tuple[tuple[str, str], ...]  # (reference, where it came from)
    storage: str = ""  # what the lab engine's data-root is (bench/lab/volume.py)
    engines: tuple[EngineState, ...] = ()  # each lab engine asked for (up) or running (status)
    pypi_proxy: str | None = None  # the PyPI caching proxy's index URL, when it runs
    pypi_upstream: str | None = None  # the index it fetches from (the host pip's)


@dataclass(frozen=True)
class DownReport:
    """What `lab down` stopped, unmounted, and left running for an engine still up."""

    stopped: tuple[str, ...]
    unmounted: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # files the lab made for an engine, gone with it


def engine_names(requested: Sequence[str]) -> tuple[EngineName, ...]:
    """`--engine` values (names or "all") as engine names, in the lab's order; a one-line
    BenchError on an unknown one."""
    wanted: set[str] = set()
    for name in requested:
        if name == "all":
            wanted.update(ENGINE_NAMES)
        elif name in ENGINE_NAMES:
            wanted.add(name)
        else:
            raise BenchError(
                f"unknown lab engine {name!r}; choose from {', '.join(ENGINE_NAMES)} or all"
            )
    return tuple(name for name in ENGINE_NAMES if name in wanted)


def lab_docker_host(
    paths: LabPaths | None = None, engine: EngineName = DEFAULT_ENGINE
) -> str | None:
    """The DOCKER_HOST of the named lab engine when its dockerd runs, else None."""
    paths = paths or LabPaths.default()
    if engine == "26":
        return paths.engine26_docker_host if engine26.running_pid(paths) is not None else None
    if processes.running_pid(paths.pid_file("dockerd"), "dockerd") is None:
        return None
    return paths.docker_host


def describe_image_store(driver: str, driver_status: Sequence[tuple[str, str]]) -> str:
    """The engine's image store in words: the containerd snapshotter, or a graph driver."""
    kind = dict(driver_status).get("driver-type", "")
    if kind.startswith("io.containerd.snapshotter"):
        return f"containerd snapshotter {driver} ({kind})"
    return f"{driver} graph driver"


def describe_builder(builder_version: str) -> str:
    """What a plain `docker build` gets on the engine, from /_ping's Builder-Version."""
    # An engine that names none (20.10 without the buildkit feature) builds classic, as the
    # docker CLI assumes on Linux.
    known = {"1": "classic", "2": "BuildKit", "": "classic"}
    return known.get(builder_version, f"unknown (Builder-Version {builder_version})")


def engine_state(name: EngineName, docker_host: str) -> EngineState:
    """Ask a running engine what it is."""
    engine = Engine(docker_host)
    try:
        info = engine.info()
        driver, driver_status = engine.driver_status()
        builder = engine.builder_version()
    finally:
        engine.close()
    return EngineState(
        name,
        docker_host,
        info.server_version,
        info.api_version,
        describe_image_store(driver, driver_status),
        describe_builder(builder),
    )


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
    engines: Sequence[EngineName] = (),
) -> LabState:
    """Bring up the lab engines named (none named: the 20.10 lab, or a usable online engine)."""
    if tuple(engines) in ((), (DEFAULT_ENGINE,)):
        return _up_default(paths, requirement_files, debian_mirror, python_versions)
    state: LabState | None = None
    if DEFAULT_ENGINE in engines:
        state = _up_default(paths, requirement_files, debian_mirror, python_versions)
    if "26" in engines:
        state26 = _up_engine26(
            paths, list(requirement_files), debian_mirror, tuple(python_versions)
        )
        state = state26 if state is None else replace(state, engines=state26.engines)
    assert state is not None
    # Every engine asked for, as it describes itself (the 20.10 one only when it is the lab's).
    named = tuple(
        engine_state(name, host)
        for name in engines
        if (host := lab_docker_host(paths, name)) is not None
    )
    return replace(state, engines=named)


def _up_default(
    paths: LabPaths,
    requirement_files: Iterable[Path],
    debian_mirror: str | None,
    python_versions: Iterable[str],
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
    env: Mapping[str, str] | None = None,
) -> None:
    pid_file, log_file = paths.pid_file(service), paths.log_file(service)
    if processes.running_pid(pid_file, _SERVICES[service]) is None:
        if service == "dockerd":
            # dockerd refuses to start over a pid file it did not clean up (a reboot, a kill).
            (paths.lab_dir / "docker.pid").unlink(missing_ok=True)
        processes.start(argv, pid_file, log_file, env=env)
    processes.wait_until(service, ready, timeout_seconds, log_file)


def _lab_up(
    paths: LabPaths,
    requirement_files: list[Path],
    debian_mirror: str | None,
    python_versions: tuple[str, ...],
) -> LabState:
    _require_lab_host()
    _require_proxy_packages()
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
    upstream = _ensure_pypi_proxy(paths)

    mirror = debian_mirror or config.debian_mirror_from_apt()
    engine = Engine(paths.docker_host)
    try:
        standins.ensure(engine, paths.rootfs_cache, mirror)
        bases = _bases(engine)
    finally:
        engine.close()
    state = LabState(
        "lab",
        paths.docker_host,
        REGISTRY_ADDRESS,
        paths.wheelhouse_url,
        bases,
        storage,
        pypi_proxy=PYPI_PROXY_URL,
        pypi_upstream=upstream,
    )
    (paths.lab_dir / "state.json").write_text(json.dumps(asdict(state), indent=2) + "\n")
    return state


def _require_proxy_packages() -> None:
    if not pypiproxy.installed():
        raise BenchError(
            "the lab's PyPI proxy needs proxpi and gunicorn in this environment: "
            "pip install -e '.[lab]' (nox installs them)"
        )


def _ensure_pypi_proxy(paths: LabPaths) -> str | None:
    """The PyPI caching proxy, started unless it answers; returns its upstream index."""
    if _http_ok(pypiproxy.health_url()):
        # Asking pip for its config takes a second; a running proxy's environment says it.
        return _recorded_upstream(paths)
    upstream = pypiproxy.host_upstream()
    paths.pypi_proxy_cache.mkdir(parents=True, exist_ok=True)
    _ensure_service(
        paths,
        "pypi-proxy",
        pypiproxy.command(),
        lambda: _http_ok(pypiproxy.health_url()),
        30,
        env=pypiproxy.environment(paths, upstream),
    )
    return upstream.index_url


def _ensure_shared_services(
    paths: LabPaths, requirement_files: list[Path], python_versions: tuple[str, ...]
) -> None:
    """The registry mirror, the wheelhouse and the PyPI proxy, which every lab engine uses:
    left as they are when they answer (whoever started them), started as the 20.10 lab
    starts them if not."""
    if not _http_ok(f"http://{REGISTRY_ADDRESS}/v2/"):
        registry = config.find_tool("docker-registry")
        if registry is None:
            raise BenchError(
                f"the lab registry does not answer on {REGISTRY_ADDRESS} and docker-registry is "
                "not installed: run `python -m bench lab up` first"
            )
        for directory in (paths.lab_dir, paths.run_dir, paths.registry_storage):
            directory.mkdir(parents=True, exist_ok=True)
        paths.registry_config.write_text(config.registry_config(paths))
        _ensure_service(
            paths,
            "registry",
            config.registry_command(paths, registry),
            lambda: _http_ok(f"http://{REGISTRY_ADDRESS}/v2/"),
            30,
        )
    if not _http_ok(paths.wheelhouse_url):
        wheelhouse.fill(paths.wheelhouse, requirement_files, python_versions)
        _ensure_service(
            paths,
            "wheelhouse",
            config.wheelhouse_server_command(paths),
            lambda: _http_ok(paths.wheelhouse_url),
            15,
        )
    _require_proxy_packages()
    _ensure_pypi_proxy(paths)


def _up_engine26(
    paths: LabPaths,
    requirement_files: list[Path],
    debian_mirror: str | None,
    python_versions: tuple[str, ...],
) -> LabState:
    engine26.require_host()
    _ensure_shared_services(paths, requirement_files, python_versions)
    host = paths.engine26_docker_host
    pid = engine26.running_pid(paths)
    if pid is not None:
        print(f"lab: engine 26 is already running (pid {pid}) at {host}; nothing to do", flush=True)
    else:
        engine26.up(paths, debian_mirror or config.debian_mirror_from_apt())
    # Also when the engine was already up: a lab from before this link existed gets it too.
    if engine26.ensure_cli_config(paths) is None:
        print(
            f"lab: engine 26: no buildx in its root ({engine26.BUILDX_IN_ROOT}); BuildKit "
            "builds use `docker build --progress=plain`",
            flush=True,
        )
    engine = Engine(host)
    try:
        bases = _mirror_bases(engine)
    finally:
        engine.close()
    missing = [reference for reference, origin in bases if origin.startswith("not in")]
    if missing:
        print(
            f"lab: engine 26: the lab registry lacks {', '.join(missing)}; "
            "`python -m bench lab up` (engine 20.10) builds and pushes the stand-ins",
            flush=True,
        )
    state = LabState(
        "lab",
        host,
        REGISTRY_ADDRESS,
        paths.wheelhouse_url,
        bases,
        engine26.storage(paths),
        (engine_state("26", host),),
        pypi_proxy=_pypi_proxy_if_up(),
    )
    (paths.engine26_dir / "state.json").write_text(json.dumps(asdict(state), indent=2) + "\n")
    return state


def _mirror_bases(engine: Engine) -> tuple[tuple[str, str], ...]:
    """The stand-ins as an engine that pulls them on first use sees them."""
    found = []
    for (reference, origin), standin in zip(_bases(engine), standins.STANDINS, strict=True):
        if origin == "missing":
            origin = (
                "in the lab registry, pulled on first use"
                if standins.in_registry(standin)
                else "not in the lab registry"
            )
        found.append((reference, origin))
    return tuple(found)


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
    running = tuple(
        engine_state(name, host)
        for name in ENGINE_NAMES
        if (host := lab_docker_host(paths, name)) is not None
    )
    lab_host = lab_docker_host(paths)
    explicit = os.environ.get("DOCKER_HOST")
    host26 = lab_docker_host(paths, "26")
    if host26 is not None and ((lab_host is None and not explicit) or explicit == host26):
        # Engine 26 is the lab engine in use: the only one running, or DOCKER_HOST's.
        engine = Engine(host26)
        try:
            bases = _mirror_bases(engine)
        finally:
            engine.close()
        return LabState(
            "lab",
            host26,
            _registry_if_up(),
            paths.wheelhouse_url if _http_ok(paths.wheelhouse_url) else None,
            bases,
            engine26.storage(paths),
            running,
            pypi_proxy=_pypi_proxy_if_up(),
        )
    if lab_host is None or (explicit and explicit != lab_host):
        host = explicit or None
        if not Engine.reachable(host):
            raise BenchError(
                "no lab is running and no Docker engine answers; run `python -m bench lab up`"
            )
        return LabState("online", host or "default", None, None, (), engines=running)
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
    proxy = (
        PYPI_PROXY_URL
        if processes.running_pid(paths.pid_file("pypi-proxy"), _SERVICES["pypi-proxy"])
        else None
    )
    return LabState(
        "lab",
        lab_host,
        registry,
        wheels,
        bases,
        volume.describe(paths),
        running,
        pypi_proxy=proxy,
        pypi_upstream=_recorded_upstream(paths) if proxy else None,
    )


def _registry_if_up() -> str | None:
    return REGISTRY_ADDRESS if _http_ok(f"http://{REGISTRY_ADDRESS}/v2/") else None


def _pypi_proxy_if_up() -> str | None:
    return PYPI_PROXY_URL if _http_ok(pypiproxy.health_url()) else None


def _recorded_upstream(paths: LabPaths) -> str | None:
    """The upstream the proxy was started with, as the process's environment says."""
    pid = processes.running_pid(paths.pid_file("pypi-proxy"), _SERVICES["pypi-proxy"])
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes() if pid else b""
    except OSError:
        return None
    for entry in raw.split(b"\0"):
        name, _, value = entry.decode(errors="replace").partition("=")
        if name == "PROXPI_INDEX_URL":
            return value
    return None


def down(paths: LabPaths, engines: Sequence[EngineName] = ENGINE_NAMES) -> DownReport:
    """Stop exactly what the lab started (by pid file) and unmount what it mounted, for the
    engines named; the registry and wheelhouse go only when no lab engine is left."""
    stopped: list[str] = []
    unmounted: list[str] = []
    kept: list[str] = []
    removed: list[str] = []
    if "26" in engines:
        stopped26, unmounted26 = engine26.down(paths)
        stopped += stopped26
        unmounted += unmounted26
        if engine26.remove_cli_config(paths):
            removed.append(f"{paths.docker_cli_config} (engine 26's buildx, for BuildKit builds)")
    if DEFAULT_ENGINE in engines:
        shared_too = "26" in engines or engine26.running_pid(paths) is None
        services = (
            ("pypi-proxy", "wheelhouse", "dockerd", "registry") if shared_too else ("dockerd",)
        )
        for service in services:
            if processes.stop(paths.pid_file(service), _SERVICES[service], timeout_seconds=30):
                stopped.append(service)
        if not shared_too:
            kept += ["registry", "wheelhouse", "pypi-proxy (engine 26 still uses them)"]
        volume.trim(paths)  # the volume stays mounted for the next `lab up`
    return DownReport(tuple(stopped), tuple(unmounted), tuple(kept), tuple(removed))
