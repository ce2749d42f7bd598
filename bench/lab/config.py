"""Pure functions that describe the lab's processes: configs and command lines, no side effects."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from bench.errors import BenchError
from bench.lab.paths import REGISTRY_ADDRESS, WHEELHOUSE_PORT, LabPaths

DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"


# Daemons live in sbin, which a non-login shell's or a CI runner's PATH may leave out.
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_tool(name: str) -> str | None:
    """`name` on PATH or in the system directories apt installs into."""
    path = os.environ.get("PATH", "") + ":" + _SYSTEM_PATH
    return shutil.which(name, path=path)


def daemon_config(paths: LabPaths) -> dict[str, object]:
    """The private dockerd's daemon.json."""
    return {
        # Base images come from the lab registry, so Dockerfiles keep their real FROM lines.
        "registry-mirrors": [f"http://{REGISTRY_ADDRESS}"],
        "insecure-registries": [REGISTRY_ADDRESS],
        # No docker0 bridge and no iptables rules: a container never gets an address
        # outside loopback, so nothing can reach a private-range network. Builds that need
        # the wheelhouse or apt use the host network; smoke tests use --network none.
        "bridge": "none",
        "iptables": False,
        "ip-forward": False,
        "ip-masq": False,
        "data-root": str(paths.data_root),
        "exec-root": str(paths.exec_root),
        # dockerd writes its own pid file; ours (run/dockerd.pid) is written by the launcher.
        "pidfile": str(paths.lab_dir / "docker.pid"),
        "hosts": [paths.docker_host],
        "log-level": "warn",
    }


def render_daemon_config(paths: LabPaths) -> str:
    return json.dumps(daemon_config(paths), indent=2, sort_keys=True) + "\n"


def dockerd_command(paths: LabPaths, dockerd: str = "dockerd") -> list[str]:
    # Everything else lives in the config file; --config-file keeps the system's
    # /etc/docker/daemon.json out of the lab.
    return [dockerd, "--config-file", str(paths.daemon_config)]


def registry_config(paths: LabPaths) -> str:
    """distribution's YAML config: loopback only, storage inside the lab directory."""
    return "\n".join(
        [
            "version: 0.1",
            "log:",
            "  level: warn",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {paths.registry_storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: {REGISTRY_ADDRESS}",
            "",
        ]
    )


def registry_command(paths: LabPaths, registry: str = "docker-registry") -> list[str]:
    return [registry, "serve", str(paths.registry_config)]


def wheelhouse_server_command(paths: LabPaths) -> list[str]:
    # A static directory listing is all pip's --find-links needs.
    return [
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        str(paths.wheelhouse),
        str(WHEELHOUSE_PORT),
    ]


def _deb822_uris(text: str) -> Iterable[tuple[str, str]]:
    """(uri, suites) of each active deb822 stanza; commented lines are skipped."""
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if not line.strip() or line.lstrip().startswith("#") or ":" not in line:
                continue
            if line[0].isspace():  # continuation of a folded field
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in fields.get("types", "").split():
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "")


def _one_line_uris(text: str) -> Iterable[tuple[str, str]]:
    """(uri, suite) of each active one-line `deb` entry."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        if rest.startswith("["):  # deb [arch=amd64 signed-by=...] URI suite ...
            rest = rest.partition("]")[2]
        words = rest.split()
        if len(words) >= 2:
            yield words[0], words[1]


def debian_mirror_from_apt(
    sources_list: Path = Path("/etc/apt/sources.list"),
    sources_dir: Path = Path("/etc/apt/sources.list.d"),
) -> str:
    """The Debian archive the host's apt uses (not the security archive, not a third party)."""
    candidates: list[tuple[str, str]] = []
    if sources_list.is_file():
        candidates += _one_line_uris(sources_list.read_text(errors="replace"))
    if sources_dir.is_dir():
        for path in sorted(sources_dir.iterdir()):
            if path.suffix == ".sources":
                candidates += _deb822_uris(path.read_text(errors="replace"))
            elif path.suffix == ".list":
                candidates += _one_line_uris(path.read_text(errors="replace"))
    archives = [
        uri.rstrip("/")
        for uri, suites in candidates
        if "security" not in uri and "security" not in suites and "debian" in uri
    ]
    # Plain HTTP first: apt inside a build container cannot verify the host's TLS setup.
    archives.sort(key=lambda uri: not uri.startswith("http://"))
    if archives:
        return archives[0]
    if not candidates:
        return DEFAULT_DEBIAN_MIRROR
    raise BenchError(
        "could not find a Debian archive in the host's apt sources; "
        "pass --debian-mirror http://HOST/debian"
    )
