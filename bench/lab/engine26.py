"""Engine 26: Debian trixie's docker.io on the containerd image store, chrooted in a root of
its own beside the 20.10 engine, pulling the stand-ins through the same registry mirror.

The root is made once per package set (debootstrap, then apt-get install inside it) and
cached under the user's cache dir; the engine runs in a copy of it under the lab dir, so its
images and containers never touch the cache, and survive `lab down` like the 20.10 engine's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from bench.engine.client import Engine
from bench.errors import BenchError
from bench.lab import mounts, processes, rootfs
from bench.lab.config import find_tool
from bench.lab.paths import REGISTRY_ADDRESS, LabPaths

SUITE = "trixie"
# docker.io brings dockerd, containerd and runc; docker-cli and docker-buildx give BuildKit
# builds (`docker buildx build`) inside the root; iptables because dockerd 26 looks for it.
PACKAGES = ("docker.io", "docker-cli", "docker-buildx", "iptables")
# Bump when what goes into the cached root changes other than the suite or packages.
_RECIPE_VERSION = "1"

# Paths as the chrooted dockerd sees them.
CONFIG_IN_ROOT = "/etc/docker/dockerfile-bench.json"
SOCKET_IN_ROOT = "/run/docker26.sock"
DATA_ROOT_IN_ROOT = "/var/lib/docker"
EXEC_ROOT_IN_ROOT = "/run/docker"
PID_FILE_IN_ROOT = "/run/docker.pid"
DOCKERD_IN_ROOT = "/usr/sbin/dockerd"
BUILDX_IN_ROOT = "/usr/libexec/docker/cli-plugins/docker-buildx"

SERVICE = "dockerd-26"  # its pid file and log under the lab's run dir
_START_TIMEOUT_SECONDS = 90
_STOP_TIMEOUT_SECONDS = 30
# dockerd finds containerd, runc and docker-init on PATH, inside the root.
_ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def cache_key(suite: str = SUITE, packages: Sequence[str] = PACKAGES) -> str:
    """What the cached root is made of; another package set is another cached root."""
    recipe = f"{_RECIPE_VERSION}|{suite}|{' '.join(sorted(packages))}"
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def cached_root(paths: LabPaths) -> Path:
    return paths.engine26_cache / f"{SUITE}-{cache_key()}"


def daemon_config() -> dict[str, object]:
    """Engine 26's daemon.json, with paths as seen inside its root."""
    return {
        # Like the 20.10 engine: no bridge, no iptables rules, so a container never gets an
        # address outside loopback; builds that need the network use the host's.
        "bridge": "none",
        "iptables": False,
        "ip6tables": False,
        "ip-forward": False,
        "ip-masq": False,
        # The point of this engine: images in containerd's content store and snapshotter,
        # not in the overlay2 graph driver.
        "features": {"containerd-snapshotter": True},
        "registry-mirrors": [f"http://{REGISTRY_ADDRESS}"],
        "insecure-registries": [REGISTRY_ADDRESS],
        "hosts": [f"unix://{SOCKET_IN_ROOT}"],
        "data-root": DATA_ROOT_IN_ROOT,
        "exec-root": EXEC_ROOT_IN_ROOT,
        "pidfile": PID_FILE_IN_ROOT,
        "log-level": "warn",
    }


def render_daemon_config() -> str:
    return json.dumps(daemon_config(), indent=2, sort_keys=True) + "\n"


def dockerd_command(root: Path, chroot: str = "chroot") -> list[str]:
    # --config-file: the package's own /etc/docker/daemon.json (if any) stays out of it.
    return [chroot, str(root), DOCKERD_IN_ROOT, "--config-file", CONFIG_IN_ROOT]


def dockerd_env() -> dict[str, str]:
    """A clean environment: the user's DOCKER_HOST, proxies and PATH mean nothing in the root."""
    return {"PATH": _ROOT_PATH, "HOME": "/root", "LANG": "C.UTF-8"}


def running_pid(paths: LabPaths) -> int | None:
    """Engine 26's dockerd pid, when it runs (in its own root, not any other dockerd)."""
    return processes.running_pid(paths.pid_file(SERVICE), "dockerd", paths.engine26_root)


def require_host() -> None:
    """A one-line BenchError when this machine cannot run engine 26."""
    if os.geteuid() != 0:
        raise BenchError(
            "engine 26 runs chrooted with its own mounts, which needs root: "
            "run `sudo python -m bench lab up --engine 26`"
        )
    missing = [tool for tool in ("mount", "umount", "chroot", "cp") if find_tool(tool) is None]
    if missing:
        raise BenchError(
            f"engine 26 needs {', '.join(missing)}: `apt-get install util-linux coreutils`"
        )


def _tool(name: str) -> str:
    return find_tool(name) or name


def _mounts_under(path: Path) -> list[Path]:
    return [point for point in mounts.mount_points() if point.is_relative_to(path)]


def _remove_tree(path: Path) -> None:
    """rm -rf, never through a mount (it would delete the host's /dev or /sys)."""
    if not path.exists():
        return
    busy = _mounts_under(path)
    if busy:
        raise BenchError(f"{path} still has mounts ({busy[0]}, ...); run `lab down --engine 26`")
    shutil.rmtree(path)


def _copy_tree(source: Path, target: Path) -> None:
    # cp -a keeps device nodes, owners and hard links; reflinks make it instant where the
    # file system has them.
    result = subprocess.run(
        [_tool("cp"), "-a", "--reflink=auto", str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:] or ["?"]
        raise BenchError(f"copying {source} to {target} failed: {last[0]}")


def _in_root(root: Path, argv: Sequence[str]) -> None:
    env = {**dockerd_env(), "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        [_tool("chroot"), str(root), *argv], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
        raise BenchError(f"`{' '.join(argv)}` in the {SUITE} root failed: {last[0]}")


def _host_network_files(root: Path) -> None:
    """The host's resolver and hosts file: apt in the root, and builds on the host network,
    look names up as the host does."""
    for name in ("resolv.conf", "hosts"):
        source = Path("/etc") / name
        target = root / "etc" / name
        if source.is_file():
            target.unlink(missing_ok=True)  # debootstrap may leave a symlink here
            shutil.copyfile(source, target)


def ensure_cached_root(paths: LabPaths, mirror: str) -> Path:
    """The cached trixie root with PACKAGES installed; made once per package set."""
    target = cached_root(paths)
    if (target / rootfs.COMPLETE_MARKER).is_file():
        return target
    started = time.perf_counter()
    tree = rootfs.debootstrap_tree(paths.rootfs_cache, SUITE, mirror)
    if time.perf_counter() - started > 1:  # it ran now; a cached tree returns at once
        print(
            f"lab: engine 26: debootstrap {SUITE} took {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    partial = target.with_name(target.name + ".partial")
    _remove_tree(partial)
    _remove_tree(target)
    print(
        f"lab: engine 26: installing {' '.join(PACKAGES)} into a {SUITE} root (about a minute) ...",
        flush=True,
    )
    installing = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy_tree(tree, partial)
    (partial / rootfs.COMPLETE_MARKER).unlink(missing_ok=True)
    # No service may start inside the root while packages install (the host runs none of them).
    policy = partial / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    _host_network_files(partial)
    _in_root(partial, ["apt-get", "update", "-qq"])
    _in_root(
        partial,
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    )
    _in_root(partial, ["apt-get", "clean"])
    lists = partial / "var/lib/apt/lists"
    for entry in lists.iterdir() if lists.is_dir() else ():
        if entry.is_file():
            entry.unlink()
    (partial / rootfs.COMPLETE_MARKER).touch()
    partial.rename(target)
    print(
        f"lab: engine 26: packages installed in {time.perf_counter() - installing:.1f} s; "
        f"root cached at {target} ({time.perf_counter() - started:.1f} s in all)",
        flush=True,
    )
    return target


def ensure_live_root(paths: LabPaths, mirror: str) -> Path:
    """The root the engine runs in: a copy of the cached root, kept across `lab down`."""
    cached = ensure_cached_root(paths, mirror)
    root = paths.engine26_root
    made_from = paths.engine26_dir / "root.from"
    if root.is_dir() and made_from.is_file() and made_from.read_text().strip() == cached.name:
        return root
    if root.exists():
        print(
            f"lab: engine 26: {root} was made from another recipe; replacing it "
            "(engine 26's images go with it) ...",
            flush=True,
        )
        _remove_tree(root)
    started = time.perf_counter()
    print(f"lab: engine 26: copying the cached root to {root} ...", flush=True)
    partial = root.with_name("root.partial")
    _remove_tree(partial)
    paths.engine26_dir.mkdir(parents=True, exist_ok=True)
    _copy_tree(cached, partial)
    (partial / rootfs.COMPLETE_MARKER).unlink(missing_ok=True)
    partial.rename(root)
    made_from.write_text(cached.name + "\n")
    print(f"lab: engine 26: root copied in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def up(paths: LabPaths, mirror: str) -> bool:
    """Start engine 26 unless it runs; True when it was started now."""
    if running_pid(paths) is not None:
        return False
    require_host()
    # What a crashed engine left (its containerd, its mounts) goes first: /run starts empty,
    # and a root about to be replaced has nothing mounted in it.
    stopped, unmounted = down(paths)
    if stopped or unmounted:
        print(
            f"lab: engine 26: cleaned up after a previous run ({', '.join(stopped + unmounted)})",
            flush=True,
        )
    root = ensure_live_root(paths, mirror)
    started = time.perf_counter()
    config_file = root / CONFIG_IN_ROOT.lstrip("/")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(render_daemon_config())
    _host_network_files(root)
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    mounts.mount_all(mounts.chroot_plan(root), paths.engine26_mounts)
    print("lab: engine 26: starting dockerd ...", flush=True)
    log = paths.log_file(SERVICE)
    processes.start(
        dockerd_command(root, _tool("chroot")),
        paths.pid_file(SERVICE),
        log,
        env=dockerd_env(),
        becomes="dockerd",
    )
    try:
        processes.wait_until(
            "engine 26's dockerd",
            lambda: (
                running_pid(paths) is not None
                and Engine.reachable(paths.engine26_docker_host, timeout_seconds=2)
            ),
            _START_TIMEOUT_SECONDS,
            log,
        )
    except BenchError:
        down(paths)  # leave nothing half up: no dockerd, no mounts
        raise
    print(
        f"lab: engine 26: dockerd answers after {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return True


def down(paths: LabPaths) -> tuple[list[str], list[str]]:
    """Stop what engine 26 started, then unmount what it mounted: (stopped, unmounted)."""
    root = paths.engine26_root
    stopped = []
    if processes.stop(paths.pid_file(SERVICE), "dockerd", _STOP_TIMEOUT_SECONDS, root):
        stopped.append("dockerd (engine 26)")
    # dockerd stops its containerd and containers; anything still running in the root (a
    # killed dockerd's containerd, a shim) was started by it, and would keep mounts busy.
    leftovers = processes.pids_rooted_under(root) if root.is_dir() else []
    for pid in leftovers:
        processes.stop_pid(pid, timeout_seconds=10)
    if leftovers:
        stopped.append(f"{len(leftovers)} leftover process(es) in engine 26's root")
    return stopped, mounts.unmount_all(paths.engine26_mounts)


def ensure_cli_config(paths: LabPaths) -> Path | None:
    """The lab's DOCKER_CONFIG with the root's buildx plugin linked in; None without one."""
    # The plugin is a static Go binary (it needs only libc), so the host's docker CLI runs
    # it from the root as is; a link keeps it the root's own version.
    plugin = paths.engine26_root / BUILDX_IN_ROOT.lstrip("/")
    if not plugin.is_file():
        return None
    plugins = paths.docker_cli_config / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-buildx"
    if not (link.is_symlink() and link.readlink() == plugin):
        link.unlink(missing_ok=True)
        link.symlink_to(plugin)
    return paths.docker_cli_config


def cli_config(paths: LabPaths) -> Path | None:
    """The lab's DOCKER_CONFIG while it holds a working buildx link, else None."""
    link = paths.docker_cli_config / "cli-plugins" / "docker-buildx"
    return paths.docker_cli_config if link.is_file() else None  # is_file follows the link


def remove_cli_config(paths: LabPaths) -> bool:
    """Remove the lab's DOCKER_CONFIG (the link, and what buildx kept there); True if it was."""
    config = paths.docker_cli_config
    if not config.is_dir() or config.is_symlink():
        return False
    shutil.rmtree(config)
    return True


def storage(paths: LabPaths) -> str:
    """Where engine 26 keeps its images, for `lab status`."""
    data_root = paths.engine26_root / DATA_ROOT_IN_ROOT.lstrip("/")
    return f"a directory in engine 26's root ({data_root}), containerd's content store"
