"""Where the lab keeps its state (per lab) and its downloads (cached per user)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

REGISTRY_ADDRESS = "127.0.0.1:5000"
WHEELHOUSE_PORT = 5080
# The PyPI caching proxy (proxpi): pip in the stand-in Python bases uses it through their
# /etc/pip.conf, so a Dockerfile that names no index still installs what it asks for.
PYPI_PROXY_PORT = 5081
PYPI_PROXY_URL = f"http://127.0.0.1:{PYPI_PROXY_PORT}/index/"

# The lab's engines: Debian bookworm's 20.10 on the host (overlay2 graph driver), and
# Debian trixie's 26 in a root of its own (the containerd image store).
EngineName = Literal["20.10", "26"]
ENGINE_NAMES: tuple[EngineName, ...] = ("20.10", "26")
DEFAULT_ENGINE: EngineName = "20.10"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


@dataclass(frozen=True)
class LabPaths:
    """Every file and directory the lab owns. Nothing outside these is ever written or removed."""

    lab_dir: Path
    cache_dir: Path

    @classmethod
    def default(cls) -> LabPaths:
        lab_dir = os.environ.get("BENCH_LAB_DIR")
        cache_dir = os.environ.get("BENCH_CACHE_DIR")
        return cls(
            lab_dir=Path(lab_dir)
            if lab_dir
            else _xdg("XDG_STATE_HOME", ".local/state") / "dockerfile-bench" / "lab",
            cache_dir=Path(cache_dir)
            if cache_dir
            else _xdg("XDG_CACHE_HOME", ".cache") / "dockerfile-bench",
        )

    # The private engine: its own data-root, exec-root, pid file and socket, so it can
    # never collide with (or touch the cache of) a system Docker on the same machine.
    @property
    def docker_socket(self) -> Path:
        return self.lab_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.docker_socket}"

    @property
    def data_root(self) -> Path:
        return self.lab_dir / "data"

    @property
    def exec_root(self) -> Path:
        return self.lab_dir / "exec"

    @property
    def daemon_config(self) -> Path:
        return self.lab_dir / "daemon.json"

    @property
    def registry_config(self) -> Path:
        return self.lab_dir / "registry.yml"

    @property
    def registry_storage(self) -> Path:
        return self.lab_dir / "registry"

    @property
    def run_dir(self) -> Path:
        """Pid files and logs of the processes the lab started."""
        return self.lab_dir / "run"

    def pid_file(self, service: str) -> Path:
        return self.run_dir / f"{service}.pid"

    def log_file(self, service: str) -> Path:
        return self.run_dir / f"{service}.log"

    # Engine 26 runs chrooted in a root of its own: a copy of a cached trixie root with
    # docker.io installed. Its data-root and socket live inside that root.
    @property
    def engine26_dir(self) -> Path:
        return self.lab_dir / "engine26"

    @property
    def engine26_root(self) -> Path:
        return self.engine26_dir / "root"

    @property
    def engine26_mounts(self) -> Path:
        """The mounts `lab up --engine 26` made, in order; `lab down` undoes exactly these."""
        return self.engine26_dir / "mounts.json"

    @property
    def engine26_socket(self) -> Path:
        return self.engine26_root / "run" / "docker26.sock"

    @property
    def engine26_docker_host(self) -> str:
        return f"unix://{self.engine26_socket}"

    @property
    def docker_cli_config(self) -> Path:
        """The lab's own DOCKER_CONFIG for BuildKit builds: engine 26's buildx plugin, linked
        in while engine 26 is up, so the user's ~/.docker is never read or written."""
        return self.lab_dir / "docker-cli"

    @property
    def engine26_cache(self) -> Path:
        return self.cache_dir / "engine26"

    def docker_host_of(self, engine: EngineName) -> str:
        return self.engine26_docker_host if engine == "26" else self.docker_host

    @property
    def rootfs_cache(self) -> Path:
        return self.cache_dir / "rootfs"

    @property
    def wheelhouse(self) -> Path:
        return self.cache_dir / "wheelhouse"

    @property
    def wheelhouse_url(self) -> str:
        return f"http://127.0.0.1:{WHEELHOUSE_PORT}/"

    @property
    def pypi_proxy_cache(self) -> Path:
        """The proxy's downloaded files: per user, kept across labs like the wheelhouse."""
        return self.cache_dir / "pypi-proxy"
