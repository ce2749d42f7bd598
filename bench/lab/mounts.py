"""Mounts a chrooted engine needs, recorded as they are made so that `lab down` undoes exactly
those, in reverse order, and nothing else."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.lab.config import find_tool

Run = Callable[[Sequence[str]], None]


@dataclass(frozen=True)
class Mount:
    """One mount: the commands that make it (the mount, then its propagation), and how it goes."""

    target: Path
    commands: tuple[tuple[str, ...], ...]
    # An rbind brings the source's submounts along; they are ours too and go with it.
    recursive: bool = False


def chroot_plan(root: Path) -> tuple[Mount, ...]:
    """What a daemon chrooted in `root` needs, in mount order."""
    r = str(root)
    return (
        # runc needs / to be a mount point: without this every build fails with
        # `remount /, flags: 0x84000: invalid argument`. Private, so that what the engine
        # mounts below its root never propagates to the host.
        Mount(root, (("mount", "--bind", r, r), ("mount", "--make-private", r))),
        Mount(root / "proc", (("mount", "-t", "proc", "proc", f"{r}/proc"),)),
        # rslave: unmounting the copies later must not unmount the host's /sys or /dev
        # submounts (it would, through a shared peer group, on a systemd host).
        Mount(
            root / "sys",
            (("mount", "--rbind", "/sys", f"{r}/sys"), ("mount", "--make-rslave", f"{r}/sys")),
            recursive=True,
        ),
        Mount(
            root / "dev",
            (("mount", "--rbind", "/dev", f"{r}/dev"), ("mount", "--make-rslave", f"{r}/dev")),
            recursive=True,
        ),
        # A fresh /run each time: the engine's socket, exec-root and pid file start clean.
        Mount(root / "run", (("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", f"{r}/run"),)),
    )


def unmount_commands(mount: Mount) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the plain umount, the lazy one for when the target is still busy)."""
    recursive = ("-R",) if mount.recursive else ()
    target = str(mount.target)
    return ("umount", *recursive, target), ("umount", "-l", *recursive, target)


_OCTAL = re.compile(r"\\([0-7]{3})")


def mount_points(mountinfo: Path = Path("/proc/self/mountinfo")) -> set[Path]:
    """Every mount point the kernel lists now."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return set()
    found = set()
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            # The kernel escapes spaces, tabs, newlines and backslashes as octal.
            found.add(Path(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4])))
    return found


def _to_json(mounts: Sequence[Mount]) -> str:
    return (
        json.dumps(
            [
                {"target": str(m.target), "commands": m.commands, "recursive": m.recursive}
                for m in mounts
            ],
            indent=2,
        )
        + "\n"
    )


def recorded(record: Path) -> tuple[Mount, ...]:
    """The mounts the record says were made (and not yet undone), in the order they were made."""
    try:
        raw = json.loads(record.read_text())
    except FileNotFoundError:
        return ()
    except (OSError, ValueError) as error:
        raise BenchError(f"{record} is unreadable ({error}); unmount by hand") from error
    return tuple(
        Mount(
            Path(entry["target"]),
            tuple(tuple(command) for command in entry["commands"]),
            bool(entry["recursive"]),
        )
        for entry in raw
    )


def _run(argv: Sequence[str]) -> None:
    tool = find_tool(argv[0]) or argv[0]
    subprocess.run([tool, *argv[1:]], check=True, capture_output=True, text=True, timeout=60)


def _reason(error: subprocess.CalledProcessError | OSError) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        text = " ".join(str(error.stderr or error.stdout or "").split())
        return text[-200:] or f"exited with {error.returncode}"
    return error.strerror or str(error)


def mount_all(plan: Sequence[Mount], record: Path, run: Run = _run) -> None:
    """Make each mount, recording it as soon as it exists (a failure midway stays undoable)."""
    made = list(recorded(record))
    for mount in plan:
        mount.target.mkdir(parents=True, exist_ok=True)
        first, *rest = mount.commands
        try:
            run(first)
        except (subprocess.CalledProcessError, OSError) as error:
            raise BenchError(f"`{' '.join(first)}` failed: {_reason(error)}") from error
        made.append(mount)
        record.write_text(_to_json(made))
        for command in rest:
            try:
                run(command)
            except (subprocess.CalledProcessError, OSError) as error:
                raise BenchError(f"`{' '.join(command)}` failed: {_reason(error)}") from error


def unmount_all(
    record: Path,
    run: Run = _run,
    present: Callable[[], set[Path]] = mount_points,
) -> list[str]:
    """Undo the recorded mounts, last first, lazily where busy; returns what was unmounted.

    A recorded target that is no longer a mount point (a reboot, someone else) is dropped
    from the record without touching it.
    """
    remaining = list(recorded(record))
    undone: list[str] = []
    while remaining:
        mount = remaining[-1]
        points = present()
        if mount.target in points:
            plain, lazy = unmount_commands(mount)
            try:
                run(plain)
                undone.append(str(mount.target))
            except (subprocess.CalledProcessError, OSError):
                # What the engine mounted below ours (its data-root bind, a netns file)
                # keeps ours busy; a lazy unmount detaches them with it.
                below = [
                    point
                    for point in points
                    if point != mount.target and point.is_relative_to(mount.target)
                ]
                try:
                    run(lazy)
                    undone.append(
                        f"{mount.target} (lazily: busy"
                        + (
                            f", with {len(below)} mount(s) the engine left below it"
                            if below
                            else ""
                        )
                        + ")"
                    )
                except (subprocess.CalledProcessError, OSError) as error:
                    record.write_text(_to_json(remaining))
                    raise BenchError(
                        f"could not unmount {mount.target}: {_reason(error)}"
                    ) from error
        remaining.pop()
        record.write_text(_to_json(remaining))
    record.unlink(missing_ok=True)
    return undone
