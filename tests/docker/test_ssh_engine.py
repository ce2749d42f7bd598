"""`run --engine ssh://user@host:port`: an engine reached through ssh, as a remote build host
is. A private sshd on loopback (its own keys, its own port) forwards to the test engine with
`docker system dial-stdio`, the way the docker CLI and docker-py talk to a remote engine over
ssh; the run goes through the user's own `ssh` (here a wrapper that points it at the test's
ssh config, so nothing in ~/.ssh is read or changed)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _docker_host
from tests.project_set import MANIFEST

pytestmark = [pytest.mark.docker, pytest.mark.lab_engines("20.10")]

REPO = Path(__file__).resolve().parents[2]
SSHD = Path("/usr/sbin/sshd")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ssh_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The test engine as ssh://root@127.0.0.1:PORT, and the environment that reaches it."""
    if not SSHD.is_file():
        message = "no sshd (`apt-get install openssh-server`; .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    docker_cli = shutil.which("docker")
    target = _docker_host()
    assert docker_cli and target, "the test engine and a docker CLI are needed"
    home = tmp_path_factory.mktemp("ssh")
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)], check=True
        )
    forced = f'command="DOCKER_HOST={target} {docker_cli} system dial-stdio",no-pty'
    (home / "authorized_keys").write_text(f"{forced} {(home / 'client_key.pub').read_text()}")
    (home / "authorized_keys").chmod(0o600)
    port = _free_port()
    (home / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home / 'host_key'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPidFile {home / 'sshd.pid'}\n"
        "PasswordAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n"
        "UsePAM no\n"
    )
    (home / "ssh_config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {home / 'client_key'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    wrapper_dir = home / "bin"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {home / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    sshd = subprocess.Popen([str(SSHD), "-D", "-f", str(home / "sshd_config"), "-e"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        environment = {
            **os.environ,
            "PATH": f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}",
        }
        environment.pop("DOCKER_HOST", None)  # --engine names the engine
        yield f"ssh://root@127.0.0.1:{port}", environment
    finally:
        sshd.terminate()
        sshd.wait(timeout=10)


@pytest.mark.parametrize("builder", ["sdk", "buildkit"])
def test_a_run_over_ssh_builds_smoke_tests_and_reads_the_layers(
    ssh_engine: tuple[str, dict[str, str]], builder: str, tmp_path: Path
) -> None:
    address, environment = ssh_engine
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "wordcount-cli",
            "--manifest",
            str(MANIFEST),
            "--engine",
            address,
            "--builder",
            builder,
            # Not a lab address, so the run does not know the lab engine has no bridge.
            "--network",
            "host",
            "--repeat",
            "1",
            "--scenario",
            "cold",
            "--no-wheel-check",
            "--no-report",
            "--out",
            str(tmp_path),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (path,) = tmp_path.glob("*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    assert data["provenance"]["engine"]["docker_host"] == address
    (variant,) = data["variants"]
    assert variant["status"] == "ok", variant["reason"]
    assert variant["smoke"]["ok"]
    # The layers came through `docker save` over ssh, every byte of them.
    analysis = variant["image"]["analysis"]
    assert sum(layer["size_bytes"] for layer in analysis["layers"]) > 100_000_000
