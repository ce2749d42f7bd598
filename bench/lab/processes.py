"""Start, find and stop the lab's background processes, each tracked by its own pid file."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from bench.errors import BenchError


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def process_root(pid: int) -> Path | None:
    """The root directory the process sees (its chroot), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/root").readlink()
    except OSError:
        return None


def running_pid(pid_file: Path, expected: str, root: Path | None = None) -> int | None:
    """The pid in `pid_file` if that process runs and is `expected`; a stale file is removed.

    A pid file left by a previous session or a reboot may name a pid that now belongs to
    an unrelated process, so the command line is checked before the pid is trusted, and,
    for a chrooted daemon, its root (two dockerds differ by nothing else).
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return None
    command = _cmdline(pid)
    named = any(Path(part).name == expected or part == expected for part in command[:3])
    if command and named and (root is None or process_root(pid) == root):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def start(
    argv: list[str],
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    becomes: str | None = None,
) -> int:
    """Start `argv` in its own session, logging to `log_file`; record its pid.

    `becomes` names the program the process turns into when argv[0] execs another
    (chroot ROOT dockerd); by default argv[0] itself.
    """
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        # posix_spawn, not Popen: the process outlives us by design, and a Popen object
        # would complain about a child still running when it is collected.
        pid = os.posix_spawnp(
            argv[0],
            argv,
            os.environ if env is None else env,
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
    while time.monotonic() < deadline and not _became(pid, argv, becomes):
        time.sleep(0.01)
    return pid


def _became(pid: int, argv: list[str], becomes: str | None) -> bool:
    command = _cmdline(pid)
    if becomes is not None:
        # Its own program must be running, not the launcher whose arguments name it
        # (`chroot ROOT /usr/sbin/dockerd` names dockerd before it has chrooted).
        return bool(command) and Path(command[0]).name == becomes
    return Path(argv[0]).name in {Path(part).name for part in command[:3]}


def stop(
    pid_file: Path, expected: str, timeout_seconds: float = 20.0, root: Path | None = None
) -> bool:
    """Stop the process named by `pid_file` (only if it is `expected`). True if one was stopped."""
    pid = running_pid(pid_file, expected, root)
    if pid is None:
        return False
    stop_pid(pid, timeout_seconds)
    pid_file.unlink(missing_ok=True)
    return True


def pids_rooted_under(root: Path) -> list[int]:
    """Processes whose root directory is `root` or below it: a chrooted daemon's children
    and its containers, which nothing outside that root ever is."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            seen = process_root(int(entry.name))
            if seen is not None and seen.is_relative_to(root) and _alive(int(entry.name)):
                found.append(int(entry.name))
    return sorted(found)


def stop_pid(pid: int, timeout_seconds: float) -> None:
    """SIGTERM, then SIGKILL after `timeout_seconds`; returns when the process is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(what: str, ready: Callable[[], bool], timeout_seconds: float, log: Path) -> None:
    """Poll `ready` until it holds; a one-line BenchError with the log's last line if not."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
    raise BenchError(
        f"{what} did not come up in {timeout_seconds:.0f} s; "
        f"last log line: {tail[0] if tail else 'none'} (log: {log})"
    )
