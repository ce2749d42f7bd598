"""Start, find and stop the lab's background processes, each tracked by its own pid file."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from bench.errors import BenchError


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def running_pid(pid_file: Path, expected: str) -> int | None:
    """The pid in `pid_file` if that process runs and is `expected`; a stale file is removed.

    A pid file left by a previous session or a reboot may name a pid that now belongs to
    an unrelated process, so the command line is checked before the pid is trusted.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return None
    command = _cmdline(pid)
    if command and any(Path(part).name == expected or part == expected for part in command[:3]):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def start(argv: list[str], pid_file: Path, log_file: Path) -> int:
    """Start `argv` in its own session, logging to `log_file`; record its pid."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        # posix_spawn, not Popen: the process outlives us by design, and a Popen object
        # would complain about a child still running when it is collected.
        pid = os.posix_spawnp(
            argv[0],
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log, 1),
                (os.POSIX_SPAWN_DUP2, log, 2),
            ],
            # Its own session: a Ctrl-C in the user's terminal must not stop the lab.
            setsid=True,
        )
    except OSError as error:
        raise BenchError(f"could not start {argv[0]}: {error.strerror}") from error
    finally:
        os.close(log)
    pid_file.write_text(f"{pid}\n")
    # Until the child has exec'd, /proc shows our own command line; wait so that the pid
    # file is trusted by running_pid() as soon as we return.
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and Path(argv[0]).name not in {
        Path(part).name for part in _cmdline(pid)[:3]
    }:
        time.sleep(0.01)
    return pid


def stop(pid_file: Path, expected: str, timeout_seconds: float = 20.0) -> bool:
    """Stop the process named by `pid_file` (only if it is `expected`). True if one was stopped."""
    pid = running_pid(pid_file, expected)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"
