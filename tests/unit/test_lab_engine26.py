"""Engine 26's config, mount plan, mount record and engine naming, without root or a daemon."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.cli import _parser
from bench.errors import BenchError
from bench.lab import control, engine26, mounts, processes, rootfs
from bench.lab.paths import ENGINE_NAMES, LabPaths


@pytest.fixture
def paths(tmp_path: Path) -> LabPaths:
    return LabPaths(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")


def test_daemon_config_uses_the_containerd_store_and_stays_off_every_network() -> None:
    daemon = json.loads(engine26.render_daemon_config())
    assert daemon["features"] == {"containerd-snapshotter": True}
    assert daemon["bridge"] == "none"
    assert daemon["iptables"] is False
    assert daemon["ip6tables"] is False
    assert daemon["registry-mirrors"] == ["http://127.0.0.1:5000"]
    assert daemon["insecure-registries"] == ["127.0.0.1:5000"]
    assert daemon["hosts"] == ["unix:///run/docker26.sock"]


def test_the_socket_the_host_uses_is_the_one_dockerd_makes_in_its_root(paths: LabPaths) -> None:
    in_root = engine26.daemon_config()["hosts"]
    assert isinstance(in_root, list)
    assert paths.engine26_socket == paths.engine26_root / in_root[0].removeprefix("unix:///")
    assert paths.docker_host_of("26") == f"unix://{paths.engine26_socket}"
    assert paths.docker_host_of("20.10") == paths.docker_host
    assert paths.engine26_docker_host != paths.docker_host


def test_engine26_lives_under_the_lab_dir_and_caches_under_the_cache_dir(
    paths: LabPaths,
) -> None:
    assert paths.engine26_root.is_relative_to(paths.lab_dir)
    assert paths.engine26_mounts.is_relative_to(paths.lab_dir)
    assert engine26.cached_root(paths).is_relative_to(paths.cache_dir)
    assert paths.pid_file(engine26.SERVICE) != paths.pid_file("dockerd")


def test_dockerd_runs_chrooted_with_the_lab_config_and_a_clean_environment(
    paths: LabPaths,
) -> None:
    command = engine26.dockerd_command(paths.engine26_root, "/usr/sbin/chroot")
    assert command == [
        "/usr/sbin/chroot",
        str(paths.engine26_root),
        "/usr/sbin/dockerd",
        "--config-file",
        engine26.CONFIG_IN_ROOT,
    ]
    env = engine26.dockerd_env()
    assert "DOCKER_HOST" not in env
    assert "/usr/sbin" in env["PATH"].split(":")


def test_cache_key_follows_the_package_set() -> None:
    assert engine26.cache_key() == engine26.cache_key(packages=tuple(reversed(engine26.PACKAGES)))
    assert engine26.cache_key() != engine26.cache_key(packages=("docker.io",))
    assert engine26.cache_key() != engine26.cache_key(suite="forky")


def test_mount_plan_self_binds_the_root_first_and_keeps_host_mounts_apart(tmp_path: Path) -> None:
    root = tmp_path / "root"
    plan = mounts.chroot_plan(root)
    assert [m.target for m in plan] == [
        root,
        root / "proc",
        root / "sys",
        root / "dev",
        root / "run",
    ]
    assert plan[0].commands == (
        ("mount", "--bind", str(root), str(root)),
        ("mount", "--make-private", str(root)),
    )
    for mount in plan[2:4]:
        # Without rslave, unmounting the copy would unmount the host's /dev/pts on a
        # systemd host (a shared peer group).
        assert mount.recursive
        assert mount.commands[0][:2] == ("mount", "--rbind")
        assert mount.commands[1] == ("mount", "--make-rslave", str(mount.target))
    assert plan[4].commands[0][:3] == ("mount", "-t", "tmpfs")
    assert not plan[0].recursive and not plan[4].recursive


def test_unmount_commands_recursive_for_rbinds_and_a_lazy_fallback(tmp_path: Path) -> None:
    plan = mounts.chroot_plan(tmp_path / "root")
    assert mounts.unmount_commands(plan[2]) == (
        ("umount", "-R", str(plan[2].target)),
        ("umount", "-l", "-R", str(plan[2].target)),
    )
    assert mounts.unmount_commands(plan[1]) == (
        ("umount", str(plan[1].target)),
        ("umount", "-l", str(plan[1].target)),
    )


class FakeMounter:
    """Records commands; keeps a mount table; fails the commands it is told to."""

    def __init__(self, fail: Sequence[str] = ()) -> None:
        self.commands: list[tuple[str, ...]] = []
        self.table: set[Path] = set()
        self.fail = set(fail)

    def __call__(self, argv: Sequence[str]) -> None:
        command = tuple(argv)
        self.commands.append(command)
        if " ".join(command) in self.fail:
            raise subprocess.CalledProcessError(32, list(command), stderr="target is busy")
        if command[0] == "mount" and not command[1].startswith("--make"):
            self.table.add(Path(command[-1]))
        if command[0] == "umount":
            self.table.discard(Path(command[-1]))

    def present(self) -> set[Path]:
        return set(self.table)


def test_mount_all_records_each_mount_as_it_is_made(tmp_path: Path) -> None:
    root = tmp_path / "root"
    record = tmp_path / "mounts.json"
    fake = FakeMounter()
    mounts.mount_all(mounts.chroot_plan(root), record, fake)
    assert [m.target for m in mounts.recorded(record)] == [
        m.target for m in mounts.chroot_plan(root)
    ]
    assert fake.commands[0] == ("mount", "--bind", str(root), str(root))


def test_a_failed_mount_leaves_a_record_of_exactly_what_was_made(tmp_path: Path) -> None:
    root = tmp_path / "root"
    record = tmp_path / "mounts.json"
    fake = FakeMounter(fail=[f"mount --rbind /dev {root}/dev"])
    with pytest.raises(BenchError, match="--rbind /dev"):
        mounts.mount_all(mounts.chroot_plan(root), record, fake)
    assert [m.target for m in mounts.recorded(record)] == [root, root / "proc", root / "sys"]


def test_unmount_all_undoes_in_reverse_and_only_what_it_recorded(tmp_path: Path) -> None:
    root = tmp_path / "root"
    record = tmp_path / "mounts.json"
    fake = FakeMounter()
    mounts.mount_all(mounts.chroot_plan(root), record, fake)
    fake.table.add(Path("/someone/else"))  # not ours: never touched
    fake.table.discard(root / "proc")  # gone already (a reboot, someone else): skipped
    fake.commands.clear()
    undone = mounts.unmount_all(record, fake, fake.present)
    assert fake.commands == [
        ("umount", str(root / "run")),
        ("umount", "-R", str(root / "dev")),
        ("umount", "-R", str(root / "sys")),
        ("umount", str(root)),
    ]
    assert undone == [str(root / "run"), str(root / "dev"), str(root / "sys"), str(root)]
    assert fake.table == {Path("/someone/else")}
    assert not record.exists()


def test_a_busy_mount_is_unmounted_lazily_and_says_what_was_below_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    record = tmp_path / "mounts.json"
    fake = FakeMounter(fail=[f"umount {root}"])
    mounts.mount_all(mounts.chroot_plan(root)[:1], record, fake)
    fake.table.add(root / "var/lib/docker")  # the engine's own bind of its data-root
    undone = mounts.unmount_all(record, fake, fake.present)
    assert fake.commands[-1] == ("umount", "-l", str(root))
    assert undone == [f"{root} (lazily: busy, with 1 mount(s) the engine left below it)"]


def test_an_unmount_that_fails_even_lazily_keeps_the_rest_recorded(tmp_path: Path) -> None:
    root = tmp_path / "root"
    record = tmp_path / "mounts.json"
    fake = FakeMounter(fail=[f"umount {root}/proc", f"umount -l {root}/proc"])
    mounts.mount_all(mounts.chroot_plan(root)[:2], record, fake)
    with pytest.raises(BenchError, match="could not unmount"):
        mounts.unmount_all(record, fake, fake.present)
    assert [m.target for m in mounts.recorded(record)] == [root, root / "proc"]


def test_mount_points_read_mountinfo_with_escaped_spaces(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "99 27 0:50 / /tmp/with\\040space rw - tmpfs tmpfs rw\n"
    )
    assert mounts.mount_points(info) == {Path("/"), Path("/tmp/with space")}


def test_engine_names_from_the_flag() -> None:
    assert control.engine_names(["26"]) == ("26",)
    assert control.engine_names(["26", "20.10", "26"]) == ("20.10", "26")
    assert control.engine_names(["all"]) == ENGINE_NAMES
    assert control.engine_names([]) == ()
    with pytest.raises(BenchError, match="unknown lab engine"):
        control.engine_names(["27"])


def test_the_engine_flag_is_repeatable_and_absent_by_default() -> None:
    args = _parser().parse_args(["lab", "up", "--engine", "26", "--engine", "20.10"])
    assert args.engines == ["26", "20.10"]
    assert _parser().parse_args(["lab", "up"]).engines is None
    assert _parser().parse_args(["lab", "down", "--engine", "all"]).engines == ["all"]


def test_image_store_and_builder_in_words() -> None:
    assert control.describe_image_store(
        "overlayfs", [("driver-type", "io.containerd.snapshotter.v1")]
    ) == ("containerd snapshotter overlayfs (io.containerd.snapshotter.v1)")
    assert (
        control.describe_image_store("overlay2", [("Backing Filesystem", "extfs")])
        == "overlay2 graph driver"
    )
    assert control.describe_builder("2") == "BuildKit"
    assert control.describe_builder("1") == "classic"
    assert control.describe_builder("") == "classic"


def test_no_running_engine_has_no_docker_host(paths: LabPaths) -> None:
    assert control.lab_docker_host(paths, "26") is None
    assert control.lab_docker_host(paths, "20.10") is None


def test_down_with_nothing_up_touches_nothing(paths: LabPaths) -> None:
    report = control.down(paths, ("26",))
    assert report == control.DownReport(())


def test_a_daemon_in_another_root_is_not_ours(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    name = Path(Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode()).name
    assert processes.running_pid(pid_file, name, Path("/")) == os.getpid()
    assert processes.running_pid(pid_file, name, tmp_path / "root") is None


def test_not_root_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(BenchError) as raised:
        engine26.require_host()
    assert "needs root" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_tools_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(engine26, "find_tool", lambda name: None if name == "chroot" else name)
    with pytest.raises(BenchError, match="needs chroot"):
        engine26.require_host()


def test_the_live_root_is_a_copy_made_once_per_cached_root(
    paths: LabPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    cached = engine26.cached_root(paths)
    (cached / "etc").mkdir(parents=True)
    (cached / "etc/os-release").write_text("trixie\n")
    (cached / rootfs.COMPLETE_MARKER).touch()
    root = engine26.ensure_live_root(paths, "http://unused.example/debian")
    assert root == paths.engine26_root
    assert (root / "etc/os-release").read_text() == "trixie\n"
    assert not (root / rootfs.COMPLETE_MARKER).exists()
    (root / "image-data").write_text("kept")  # what the engine writes stays across ups
    assert engine26.ensure_live_root(paths, "http://unused.example/debian") == root
    assert (root / "image-data").is_file()
    assert (cached / "etc/os-release").read_text() == "trixie\n"
    assert not (cached / "image-data").exists()  # the cache never sees the engine's writes
    (paths.engine26_dir / "root.from").write_text("trixie-older\n")
    engine26.ensure_live_root(paths, "http://unused.example/debian")
    assert not (root / "image-data").exists()  # another recipe: made anew
    assert "made from another recipe" in capsys.readouterr().out


def test_down_of_20_10_keeps_the_registry_while_engine26_runs(
    paths: LabPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def fake_stop(pid_file: Path, expected: str, timeout_seconds: float = 20.0) -> bool:
        asked.append(pid_file.stem)
        return True

    monkeypatch.setattr(processes, "stop", fake_stop)
    monkeypatch.setattr(engine26, "running_pid", lambda paths: 4242)
    report = control.down(paths, ("20.10",))
    assert asked == ["dockerd"]
    assert report.stopped == ("dockerd",)
    assert "registry" in report.kept

    monkeypatch.setattr(engine26, "running_pid", lambda paths: None)
    asked.clear()
    assert control.down(paths, ("20.10",)).stopped == (
        "pypi-proxy",
        "wheelhouse",
        "dockerd",
        "registry",
    )
