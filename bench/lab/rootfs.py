"""Debian root filesystems from debootstrap, cached as tarballs under the user's cache dir."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from bench.errors import BenchError
from bench.lab.config import find_tool

# What Docker Hub's -slim images leave out, and keep out of later installs.
_SLIM_EXCLUDED = (
    "usr/share/doc/",
    "usr/share/man/",
    "usr/share/info/",
    "usr/share/locale/",
    "usr/share/groff/",
    "usr/share/lintian/",
)
_DPKG_SLIM_CONFIG = b"""# dockerfile-bench stand-in: like Docker Hub's slim images, skip docs and translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
"""
_APT_CLEAN_CONFIG = b"""# dockerfile-bench stand-in: like Docker Hub's debian images, keep no .deb files.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
"""


# Written last into a cached tree: a tree without it was interrupted and is made anew.
COMPLETE_MARKER = ".dockerfile-bench-complete"


def rootfs_tarball(cache_dir: Path, suite: str, slim: bool, mirror: str) -> Path:
    """A cached rootfs.tar for `suite` (each in its own directory: it is a build context)."""
    name = f"{suite}-slim" if slim else suite
    target = cache_dir / name / "rootfs.tar"
    if target.is_file():
        return target
    tree = debootstrap_tree(cache_dir, suite, mirror)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tar.partial")
    _write_tarball(tree, partial, slim)
    partial.replace(target)
    return target


def debootstrap_tree(cache_dir: Path, suite: str, mirror: str) -> Path:
    """A cached minbase tree of `suite`; callers copy it, never change it."""
    tree = cache_dir / f"{suite}.tree"
    done = tree / COMPLETE_MARKER
    if done.is_file():
        return tree
    if tree.exists():  # an interrupted debootstrap: start over
        shutil.rmtree(tree)
    debootstrap = find_tool("debootstrap")
    if debootstrap is None:
        raise BenchError("debootstrap is missing: run `apt-get install debootstrap` as root")
    print(f"lab: debootstrap {suite} from {mirror} (about 30 s) ...", flush=True)
    result = subprocess.run(
        [debootstrap, "--variant=minbase", suite, str(tree), mirror],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise BenchError(
            f"debootstrap {suite} from {mirror} failed: {last[0]}; "
            "check the mirror or pass --debian-mirror"
        )
    done.touch()
    return tree


def _write_tarball(tree: Path, target: Path, slim: bool) -> None:
    def keep(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = member.name.removeprefix("./")
        if name == COMPLETE_MARKER:
            return None
        # Device nodes, apt lists and downloaded .debs do not belong in an image.
        for prefix in (
            "dev/",
            "proc/",
            "sys/",
            "run/",
            "tmp/",
            "var/lib/apt/lists/",
            "var/cache/apt/",
            "var/log/",
        ):
            if name.startswith(prefix) and name != prefix.rstrip("/"):
                return None
        excluded = slim and any(
            name.startswith(p) and name != p.rstrip("/") for p in _SLIM_EXCLUDED
        )
        if excluded and not (name.startswith("usr/share/doc/") and name.endswith("/copyright")):
            return None
        return member

    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(str(tree), arcname=".", filter=keep)
        _add_file(archive, "etc/apt/apt.conf.d/docker-clean", _APT_CLEAN_CONFIG)
        if slim:
            _add_file(archive, "etc/dpkg/dpkg.cfg.d/docker-slim", _DPKG_SLIM_CONFIG)
    target.chmod(0o644)


def _add_file(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(f"./{name}")
    info.size = len(content)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(content))
