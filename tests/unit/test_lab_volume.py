"""When the lab puts its engine's data on a volume of its own, and what it says when not.

The commands are recorded, not run; tests/docker/test_lab.py checks the real mount.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.lab import volume
from bench.lab.paths import LabPaths


@pytest.fixture
def paths(tmp_path: Path) -> LabPaths:
    lab = LabPaths(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")
    lab.lab_dir.mkdir(parents=True)
    return lab


@pytest.fixture
def as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(volume, "find_tool", lambda name: f"/sbin/{name}")


class Recorder:
    def __init__(self, fail: str | None = None) -> None:
        self.commands: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> None:
        self.commands.append(list(argv))
        if self.fail and argv[0].endswith(self.fail):
            raise subprocess.CalledProcessError(32, list(argv), stderr=f"{self.fail}: no loop\n")


@pytest.mark.usefixtures("as_root")
def test_a_new_lab_makes_a_sparse_ext4_and_mounts_it_without_discard(paths: LabPaths) -> None:
    run = Recorder()
    volume.prepare(paths, run)
    image = volume.volume_file(paths)
    mkfs, mount = run.commands
    assert mkfs[0] == "/sbin/mkfs.ext4" and "nodiscard" in mkfs and mkfs[-1].endswith(".making")
    assert mount == ["/sbin/mount", "-o", "loop,nodiscard", str(image), str(paths.data_root)]
    assert image.is_file() and not image.with_suffix(".making").exists()
    assert image.stat().st_blocks * 512 < 1 << 20  # sparse: nothing is written up front
    assert image.stat().st_size >= volume.VOLUME_MIN_BYTES


@pytest.mark.usefixtures("as_root")
def test_a_volume_made_before_is_mounted_again_not_remade(paths: LabPaths) -> None:
    volume.volume_file(paths).write_bytes(b"an ext4 image")
    run = Recorder()
    volume.prepare(paths, run)
    assert [command[0] for command in run.commands] == ["/sbin/mount"]


@pytest.mark.usefixtures("as_root")
def test_a_failed_mount_leaves_a_directory_and_says_why(paths: LabPaths) -> None:
    said = volume.prepare(paths, Recorder(fail="mount"))
    assert said == (
        "a directory on the host's file system (the volume could not be mounted: mount: no loop)"
    )
    assert paths.data_root.is_dir()


@pytest.mark.usefixtures("as_root")
def test_a_failed_mkfs_leaves_no_half_made_volume(paths: LabPaths) -> None:
    said = volume.prepare(paths, Recorder(fail="mkfs.ext4"))
    assert "mkfs.ext4: no loop" in said
    assert list(paths.lab_dir.iterdir()) == []


@pytest.mark.usefixtures("as_root")
def test_data_already_in_the_data_root_is_never_hidden(paths: LabPaths) -> None:
    paths.data_root.mkdir()
    (paths.data_root / "image").mkdir()
    run = Recorder()
    said = volume.prepare(paths, run)
    assert run.commands == []
    assert "held the engine's data before" in said


@pytest.mark.usefixtures("as_root")
def test_too_little_free_space_keeps_a_directory(
    paths: LabPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: type("U", (), {"free": 6 << 30}))
    run = Recorder()
    assert "too little free space" in volume.prepare(paths, run)
    assert run.commands == []


def test_without_root_nothing_is_run(paths: LabPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(volume, "find_tool", lambda name: f"/sbin/{name}")
    run = Recorder()
    assert volume.prepare(paths, run).endswith("(mounting needs root)")
    assert run.commands == []
    assert volume.trim(paths, run) is False  # nothing mounted: nothing to trim


def test_a_data_root_bind_mounted_on_itself_is_no_volume(paths: LabPaths, tmp_path: Path) -> None:
    # dockerd bind-mounts a plain data-root on itself to make it private.
    mounts = tmp_path / "mounts"
    mounts.write_text(
        f"/dev/vda / ext4 rw,discard 0 0\n/dev/vda {paths.data_root} ext4 rw,discard 0 0\n"
    )
    assert volume.is_mounted(paths, mounts) is False
    assert volume.describe(paths).startswith("a directory")
