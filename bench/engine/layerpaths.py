"""Where an image's layers lie on the engine's own disk, so they can be read there instead
of through `docker save` (bench/layers/layerdirs.py reads them).

Paths are the engine's: a chrooted or containerised engine names them inside its own root.
They are reached through `/proc/PID/root` of the engine's process (found with SO_PEERCRED
on its socket), which is its root as the kernel sees it, whatever the chroot or mount
namespace; that needs the engine's privileges (root, or a rootless engine's own user).

- Classic store (overlay2 graph driver): the image's GraphDriver data names its layers'
  directories (UpperDir, the top layer; LowerDir, the others, top first); the config is the
  image database's file named by the image id.
- containerd image store (overlayfs snapshotter): the layers are snapshots named by chain
  id; which directory holds each is containerd's business, so containerd is asked, with its
  own tool: `ctr snapshots view --mounts` makes a read-only view of the image's top snapshot
  and prints its overlay mount, whose lowerdir lists every layer's directory, top first; the
  view is removed at once. The config is a blob of containerd's content store, named by the
  manifest the image id names.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.errors import BenchError
from bench.layers.layerdirs import TarWriter
from bench.models import StoredImage

_CTR_TIMEOUT_SECONDS = 60
_NAMESPACE = "moby"  # where Docker keeps its images in containerd
_CONTENT_BLOBS = "io.containerd.content.v1.content/blobs/sha256"
_VIEW_PREFIX = "dockerfile-bench-view-"  # our views' keys: anything else is not ours to remove
_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


class StorageEngine(Protocol):
    """What finding the layers asks of an engine (Engine, or LocalEngine without the SDK)."""

    def daemon_pid(self) -> int | None: ...

    def diff_ids(self, reference: str) -> tuple[str, ...] | None: ...

    def stored_image(self, reference: str) -> StoredImage | None: ...


class StorageUnreadable(Exception):
    """The engine's storage cannot be read from here; the message says why (one line)."""


@dataclass(frozen=True)
class LayerDirs:
    """An image's layers as directories this process can read, bottom first."""

    image_id: str
    diff_ids: tuple[str, ...]
    directories: tuple[Path, ...]
    config: Mapping[str, Any]
    writer: TarWriter = "moby"  # whose tar writer the store's layers come from


def engine_root(engine: StorageEngine) -> Path:
    """The engine's root directory as this process reaches it; StorageUnreadable if not."""
    pid = engine.daemon_pid()
    if pid is None:
        raise StorageUnreadable("the engine is not on a local unix socket")
    root = Path(f"/proc/{pid}/root")
    try:
        (root / ".").stat()
    except PermissionError:
        raise StorageUnreadable(
            "the engine's files are not readable by this user (root, or a rootless "
            "engine's own user, can read them)"
        ) from None
    except OSError:
        raise StorageUnreadable("the engine's files are not on this machine") from None
    return root


def locate(engine: StorageEngine, reference: str) -> LayerDirs:
    """Each layer's directory of `reference`; StorageUnreadable when they cannot be read."""
    root = engine_root(engine)
    stored = engine.stored_image(reference)
    if stored is None:
        raise BenchError(f"no image {reference} on the engine")
    if stored.image_store == "containerd":
        located = _containerd_layers(engine, root, stored)
    else:
        located = overlay2_layers(root, stored)
    for directory in located.directories[-1:]:
        try:
            os.scandir(directory).close()
        except OSError as error:
            raise StorageUnreadable(
                f"cannot read the layers' directories ({error.strerror})"
            ) from None
    return located


def inside(root: Path, path: str) -> Path:
    """`path` as the engine names it, reached through the engine's root."""
    return root / path.lstrip("/")


def overlay2_layers(root: Path, stored: StoredImage) -> LayerDirs:
    if stored.driver != "overlay2":
        raise StorageUnreadable(
            f"the engine's graph driver is {stored.driver or 'unknown'}; only overlay2's "
            "directories are read"
        )
    data = dict(stored.driver_data)
    if "UpperDir" not in data:
        raise StorageUnreadable("the engine gives no UpperDir for the image")
    lower = [path for path in data.get("LowerDir", "").split(":") if path]
    # An overlay mount lists its lower directories top first.
    directories = tuple(inside(root, path) for path in [*reversed(lower), data["UpperDir"]])
    if len(directories) != len(stored.diff_ids):
        raise StorageUnreadable(
            f"the engine names {len(directories)} layer directories for "
            f"{len(stored.diff_ids)} layers"
        )
    config_path = inside(
        root,
        f"{stored.root_dir}/image/overlay2/imagedb/content/sha256/"
        f"{stored.image_id.removeprefix('sha256:')}",
    )
    return LayerDirs(stored.image_id, stored.diff_ids, directories, _json_file(config_path))


def chain_ids(diff_ids: Sequence[str]) -> tuple[str, ...]:
    """Each layer's chain id (the OCI image spec's ChainID): how snapshots are named."""
    import hashlib  # here: only the containerd store needs it, and it loads OpenSSL

    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            digest = hashlib.sha256(f"{chains[-1]} {diff_id}".encode()).hexdigest()
            chains.append(f"sha256:{digest}")
    return tuple(chains)


@dataclass(frozen=True)
class _Containerd:
    address: Path
    content_root: Path  # containerd's root directory, reached through its process's root
    ctr: str


def _containerd_layers(engine: StorageEngine, root: Path, stored: StoredImage) -> LayerDirs:
    if stored.driver != "overlayfs":
        raise StorageUnreadable(
            f"the engine's snapshotter is {stored.driver or 'unknown'}; only overlayfs "
            "snapshots are read"
        )
    pid = engine.daemon_pid()
    assert pid is not None  # engine_root found it
    containerd = _find_containerd(pid, root)
    directories: tuple[Path, ...] = ()
    if stored.diff_ids:
        chains = chain_ids(stored.diff_ids)
        mounts = _view_mounts(containerd, stored.driver, chains[-1])
        listed = _ctr([*_snapshots_command(containerd, stored.driver), "ls"])
        ancestry = snapshot_ancestry(parse_snapshot_list(listed), chains[-1])
        paths = layer_directories(snapshot_directories(mounts), ancestry, chains)
        directories = tuple(inside(root, path) for path in paths)
    config = _containerd_config(containerd.content_root, stored.image_id)
    return LayerDirs(stored.image_id, stored.diff_ids, directories, config, "containerd")


def _find_containerd(dockerd_pid: int, root: Path) -> _Containerd:
    """The containerd the engine uses: the one it started (its child), else the system's."""
    config: dict[str, Any] = {}
    containerd_root = root
    for child in _children(dockerd_pid):
        if _command_name(child) != "containerd":
            continue
        arguments = _command_line(child)
        containerd_root = Path(f"/proc/{child}/root")
        if "--config" in arguments[:-1]:
            config_path = inside(containerd_root, arguments[arguments.index("--config") + 1])
            try:
                config = tomllib.loads(config_path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise StorageUnreadable(f"cannot read containerd's config: {error}") from None
        break
    address = str((config.get("grpc") or {}).get("address") or "/run/containerd/containerd.sock")
    data_root = str(config.get("root") or "/var/lib/containerd")
    ctr = shutil.which("ctr") or os.fspath(inside(containerd_root, "/usr/bin/ctr"))
    if not Path(ctr).is_file():
        raise StorageUnreadable("no `ctr` (containerd's tool) to ask where the snapshots are")
    return _Containerd(inside(containerd_root, address), inside(containerd_root, data_root), ctr)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (any of its threads may have started them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The fields after the command name, which may hold spaces and parentheses.
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return sorted(found)


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(part) for part in raw.split(b"\0") if part]


def _snapshots_command(containerd: _Containerd, snapshotter: str) -> list[str]:
    return [
        containerd.ctr,
        "--address",
        os.fspath(containerd.address),
        "--namespace",
        _NAMESPACE,
        "snapshots",
        "--snapshotter",
        snapshotter,
    ]


def parse_snapshot_list(text: str) -> dict[str, str]:
    """`ctr snapshots ls` (KEY, PARENT, KIND columns) as key -> parent ('' at the bottom)."""
    parents: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) == 3:
            parents[fields[0]] = fields[1]
        elif len(fields) == 2:
            parents[fields[0]] = ""
    return parents


def snapshot_ancestry(parents: Mapping[str, str], top: str) -> list[str]:
    """The snapshot `top` and its ancestors, top first."""
    chain = [top]
    while (parent := parents.get(chain[-1], "")) and len(chain) <= len(parents):
        chain.append(parent)
    return chain


def layer_directories(
    directories: Sequence[str], ancestry: Sequence[str], chains: Sequence[str]
) -> list[str]:
    """Each layer's directory, bottom first, from a view's directories (top first) and the
    names of the snapshots behind them (top first).

    A snapshot chain may hold more than the image's layers: the classic builder on the
    containerd store commits each step's container snapshot, whose parent is the
    container's `-init` snapshot (its /etc/hosts and the like, not part of any layer). The
    layers are the snapshots named by their chain ids; each holds only its own changes.
    """
    if len(directories) != len(ancestry):
        raise StorageUnreadable(
            f"containerd's view has {len(directories)} directories for {len(ancestry)} snapshots"
        )
    by_name = dict(zip(ancestry, directories, strict=True))
    missing = [chain for chain in chains if chain not in by_name]
    if missing:
        raise StorageUnreadable(f"no snapshot named {missing[0]} under the image's top layer")
    return [by_name[chain] for chain in chains]


def _view_mounts(containerd: _Containerd, snapshotter: str, chain: str) -> list[dict[str, Any]]:
    """The mounts of a read-only view of snapshot `chain`, made and removed here."""
    key = f"{_VIEW_PREFIX}{os.urandom(6).hex()}"
    snapshots = _snapshots_command(containerd, snapshotter)
    try:
        made = _ctr([*snapshots, "view", "--mounts", key, chain])
    finally:
        # Removed whether or not the view printed: a view made but not reported is ours too.
        _ctr([*snapshots, "rm", key], check=False)
    try:
        mounts = json.loads(made)
        if not isinstance(mounts, list):
            raise TypeError("not a list")
    except (ValueError, TypeError) as error:
        raise StorageUnreadable(f"ctr's view mounts are unusable: {error}") from None
    return [mount for mount in mounts if isinstance(mount, dict)]


def _ctr(arguments: list[str], *, check: bool = True) -> str:
    try:
        done = subprocess.run(
            arguments,
            capture_output=True,
            text=True,
            timeout=_CTR_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StorageUnreadable(f"cannot run ctr: {error}") from None
    if check and done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[:300]
        raise StorageUnreadable(f"`{shlex.join(arguments[3:])}` failed: {detail}")
    return done.stdout


def snapshot_directories(mounts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The directories of a view's mounts, top first: an overlay's lowerdir list, or the
    one directory of a bind mount (an image of one layer)."""
    for mount in mounts:
        kind = str(mount.get("Type") or mount.get("type") or "")
        options = [str(option) for option in mount.get("Options") or mount.get("options") or []]
        if kind == "overlay":
            for option in options:
                if option.startswith("lowerdir="):
                    return [path for path in option.removeprefix("lowerdir=").split(":") if path]
        elif kind == "bind":
            return [str(mount.get("Source") or mount.get("source") or "")]
    raise StorageUnreadable(f"ctr's view has no overlay or bind mount: {list(mounts)!r}"[:300])


def _containerd_config(content_root: Path, image_id: str) -> dict[str, Any]:
    """The image config, from the manifest (or index) that `image_id` names."""
    blobs = content_root / _CONTENT_BLOBS
    document = _json_file(blobs / image_id.removeprefix("sha256:"))
    if "manifests" in document:  # an index: this machine's platform, else the first
        manifests = [entry for entry in document["manifests"] if isinstance(entry, dict)]
        wanted = _MACHINES.get(platform.machine(), platform.machine())
        chosen = next(
            (
                entry
                for entry in manifests
                if (entry.get("platform") or {}).get("architecture") == wanted
            ),
            manifests[0] if manifests else None,
        )
        if chosen is None:
            raise StorageUnreadable(f"the image index {image_id} lists no manifest")
        document = _json_file(blobs / str(chosen["digest"]).removeprefix("sha256:"))
    try:
        config_digest = str(document["config"]["digest"])
    except (KeyError, TypeError):
        raise StorageUnreadable(f"the manifest of {image_id} names no config") from None
    return _json_file(blobs / config_digest.removeprefix("sha256:"))


def _json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except OSError as error:
        raise StorageUnreadable(f"cannot read {path.name} ({error.strerror})") from None
    except ValueError as error:
        raise StorageUnreadable(f"{path.name} is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise StorageUnreadable(f"{path.name} is not a JSON object")
    return data
