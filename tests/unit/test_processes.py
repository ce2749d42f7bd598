"""Pid files are trusted only when they name the process we started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.lab import processes


def test_stale_pid_file_is_removed_not_trusted(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file.write_text(f"{dead.pid}\n")
    assert processes.running_pid(pid_file, "dockerd") is None
    assert not pid_file.exists()


def test_pid_of_an_unrelated_process_is_not_trusted(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        pid_file.write_text(f"{sleeper.pid}\n")
        assert processes.running_pid(pid_file, "dockerd") is None
        assert not processes.stop(pid_file, "dockerd")
        assert sleeper.poll() is None  # not ours by name: left alone
    finally:
        sleeper.kill()
        sleeper.wait()


def test_start_and_stop_our_own_process(tmp_path: Path) -> None:
    pid_file, log = tmp_path / "s.pid", tmp_path / "s.log"
    pid = processes.start(["sleep", "30"], pid_file, log)
    assert processes.running_pid(pid_file, "sleep") == pid
    assert processes.stop(pid_file, "sleep", timeout_seconds=5)
    assert processes.running_pid(pid_file, "sleep") is None
    assert not pid_file.exists()


def test_garbage_pid_file_is_removed(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text("not a pid")
    assert processes.running_pid(pid_file, "dockerd") is None
    assert not pid_file.exists()


def test_start_returns_once_the_launcher_has_become_the_program(tmp_path: Path) -> None:
    pid_file, log = tmp_path / "x.pid", tmp_path / "x.log"
    # Like `chroot ROOT /usr/sbin/dockerd`: the launcher's argv names the program a while
    # before it execs it.
    launcher = tmp_path / "launch"
    launcher.write_text('#!/bin/sh\nsleep 0.3\nexec "$@"\n')
    launcher.chmod(0o755)
    pid = processes.start([str(launcher), "sleep", "30"], pid_file, log, becomes="sleep")
    try:
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"sleep"
        assert processes.running_pid(pid_file, "sleep") == pid
    finally:
        processes.stop(pid_file, "sleep", timeout_seconds=5)
