"""The lab against the real engine: isolation, mirror, wheelhouse, idempotence, down/up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.engine import labels
from bench.engine.client import Engine
from bench.lab import processes, standins
from bench.lab.control import lab_docker_host
from bench.lab.paths import LabPaths

pytestmark = pytest.mark.docker

TEST_LABELS = {labels.CREATED_BY: labels.CREATED_BY_VALUE, labels.RUN_ID: "pytest-lab"}


def _bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _lab_only() -> LabPaths:
    paths = LabPaths.default()
    if lab_docker_host(paths) is None:
        pytest.fail(
            "these tests check the private lab, but it is not running "
            "(an online engine is in use); run them in the lab"
        )
    return paths


def test_engine_answers(engine: Engine) -> None:
    info = engine.info()
    assert info.server_version
    assert info.storage_driver


def test_default_container_has_only_loopback(engine: Engine) -> None:
    _lab_only()
    script = "import socket; print(sorted(n for _, n in socket.if_nameindex()))"
    api = engine._api
    container = api.create_container(
        "python:3.11-slim", ["python3", "-c", script], labels=TEST_LABELS
    )
    try:
        api.start(container["Id"])
        assert api.wait(container["Id"], timeout=60)["StatusCode"] == 0
        output = api.logs(container["Id"]).decode().strip()
        networks = api.inspect_container(container["Id"])["NetworkSettings"]["Networks"]
    finally:
        api.remove_container(container["Id"], force=True)
    assert output == "['lo']"
    assert all(not n.get("IPAddress") for n in networks.values())


def test_python_slim_is_pulled_through_the_mirror(engine: Engine) -> None:
    _lab_only()
    outcome = engine.pull("python:3.11-slim")
    assert outcome.ok, outcome.error
    request = urllib.request.Request(
        "http://127.0.0.1:5000/v2/library/python/manifests/3.11-slim",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        digest = response.headers["Docker-Content-Digest"]
    repo_digests = engine._api.inspect_image("python:3.11-slim")["RepoDigests"]
    assert any(d.endswith(digest) for d in repo_digests), (digest, repo_digests)


def test_build_installs_from_the_wheelhouse(engine: Engine, tmp_path: Path) -> None:
    paths = _lab_only()
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "ARG PIP_FIND_LINKS\nARG PIP_NO_INDEX\n"
        "RUN pip install --no-cache-dir idna==3.20 && python3 -c 'import idna'\n"
    )
    tag = "dockerfile-bench-test/wheelhouse:1"
    outcome = engine.build(
        tmp_path,
        tmp_path / "Dockerfile",
        tag,
        nocache=True,
        buildargs={"PIP_FIND_LINKS": paths.wheelhouse_url, "PIP_NO_INDEX": "1"},
        labels=TEST_LABELS,
        network_mode="host",
    )
    try:
        assert outcome.ok, (outcome.error, outcome.log_tail)
        assert any("pip install" in step.instruction for step in outcome.steps)
    finally:
        engine.remove_image(tag)


def _pids(paths: LabPaths) -> dict[str, int | None]:
    return {
        service: processes.running_pid(paths.pid_file(service), expected)
        for service, expected in (
            ("dockerd", "dockerd"),
            ("registry", "docker-registry"),
            ("wheelhouse", "http.server"),
        )
    }


@pytest.mark.lab_engines("20.10")
def test_lab_up_twice_is_idempotent() -> None:
    paths = _lab_only()
    before = _pids(paths)
    started = time.perf_counter()
    result = _bench("lab", "up")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert _pids(paths) == before
    assert elapsed < 15, f"a second lab up took {elapsed:.1f} s"
    assert f"export DOCKER_HOST={paths.docker_host}" in result.stdout


@pytest.mark.lab_engines("20.10")
def test_lab_status_lists_the_stand_ins() -> None:
    _lab_only()
    result = _bench("lab", "status")
    assert result.returncode == 0, result.stderr
    for base in (
        "debian:bookworm ",
        "debian:bookworm-slim",
        "python:3.11 ",
        "python:3.11-slim",
        "python:3.11-alpine",
        "python:3.13-slim",
    ):
        line = next(line for line in result.stdout.splitlines() if base in line + " ")
        assert "stand-in" in line, line


@pytest.mark.lab_engines("20.10")
def test_the_engine_data_is_where_lab_status_says() -> None:
    paths = _lab_only()
    result = _bench("lab", "status")
    assert result.returncode == 0, result.stderr
    storage = next(line for line in result.stdout.splitlines() if line.startswith("storage:"))
    mounts = {
        fields[1]: fields[3].split(",")
        for fields in (line.split() for line in Path("/proc/mounts").read_text().splitlines())
    }
    data_root = str(paths.data_root)
    if "ext4 volume" in storage:
        # Deleting a run's images is what online discard slows down (bench/lab/volume.py).
        assert "discard" not in mounts[data_root], mounts[data_root]
        info = Engine(paths.docker_host).info()
        assert info.storage_driver == "overlay2"
    else:
        assert data_root not in mounts, storage


@pytest.mark.lab_engines("20.10")
def test_lab_down_stops_exactly_its_processes_and_up_recovers() -> None:
    paths = _lab_only()
    bystander = subprocess.Popen(["sleep", "120"])  # not ours: must survive `lab down`
    try:
        before = _pids(paths)
        down = _bench("lab", "down")
        assert down.returncode == 0, down.stderr
        for pid in before.values():
            assert pid is not None
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
        assert _pids(paths) == {"dockerd": None, "registry": None, "wheelhouse": None}
        assert bystander.poll() is None
        assert not Engine.reachable(paths.docker_host, timeout_seconds=2)
    finally:
        up = _bench("lab", "up")
        bystander.kill()
        bystander.wait()
    assert up.returncode == 0, up.stderr
    assert Engine.reachable(paths.docker_host)
    state = json.loads((paths.lab_dir / "state.json").read_text())
    assert state["mode"] == "lab"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


@pytest.mark.lab_engines("20.10")
def test_no_engine_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "lab", "status"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def engine26_host() -> Iterator[str]:
    """Engine 26's DOCKER_HOST: the running one, or one this module starts and then stops."""
    paths = LabPaths.default()
    host = lab_docker_host(paths, "26")
    started_here = host is None
    if started_here:
        up = _bench("lab", "up", "--engine", "26", timeout=900)
        assert up.returncode == 0, up.stderr or up.stdout
        host = lab_docker_host(paths, "26")
    assert host is not None
    yield host
    if started_here:
        down = _bench("lab", "down", "--engine", "26")
        assert down.returncode == 0, down.stderr


@pytest.mark.lab_engines("20.10")
def test_engine26_uses_the_containerd_store_and_builds_from_the_mirror(
    engine26_host: str, tmp_path: Path
) -> None:
    # A miss in the mirror would send the engine to Docker Hub: never in the lab.
    assert standins.lab_registry_serves("python:3.11-slim")
    engine = Engine(engine26_host)
    tag = "dockerfile-bench-test/engine26:1"
    try:
        info = engine.info()
        assert info.server_version.startswith("26."), info.server_version
        assert info.image_store == "containerd"
        driver, driver_status = engine.driver_status()
        assert dict(driver_status).get("driver-type") == "io.containerd.snapshotter.v1", (
            driver,
            driver_status,
        )

        outcome = engine.pull("python:3.11-slim")
        assert outcome.ok, outcome.error
        request = urllib.request.Request(
            "http://127.0.0.1:5000/v2/library/python/manifests/3.11-slim",
            method="HEAD",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            digest = response.headers["Docker-Content-Digest"]
        # `docker images` may leave images out on this store; inspect finds them.
        repo_digests = engine._api.inspect_image("python:3.11-slim")["RepoDigests"]
        assert any(d.endswith(digest) for d in repo_digests), (digest, repo_digests)

        (tmp_path / "Dockerfile").write_text(
            "FROM python:3.11-slim\nRUN python3 -c 'print(6 * 7)' > /answer\n"
        )
        # The SDK's /build is the classic builder, whatever the engine's default is.
        built = engine.build(
            tmp_path,
            tmp_path / "Dockerfile",
            tag,
            nocache=True,
            labels=TEST_LABELS,
            network_mode="host",
        )
        assert built.ok, (built.error, built.log_tail)
        assert built.image_id is not None
        assert engine.image_id(tag) == built.image_id
        assert engine.image_labels(tag)[labels.RUN_ID] == "pytest-lab"
    finally:
        engine.remove_image(tag)
        assert engine.image_id(tag) is None
        engine.close()
