"""The lab engine's data-root: an ext4 file system of its own, mounted without online discard.

Why: a run deletes about twenty image chains it built (every cold build, the naive
variant's edits, the builder stages), each with a pip layer of some 14,000 files. On this
lab's machine the root file system is mounted with `discard`, which makes every freed
block a discard request before the delete returns: `rm -rf` of one such layer took 2.3 s
there, and 0.4 s on an ext4 without online discard (loop-mounted). The engine deletes one
layer at a time, so a run spent about a minute of engine time deleting what it built.

So, where it can, `lab up` keeps the engine's data in a sparse file holding an ext4 file
system, mounted over the data-root with `nodiscard`; freed blocks go back to the host in
one `fstrim` at `lab up` and `lab down` (what distributions' weekly fstrim timers do for
whole disks), not one request per file. Where it cannot (not root, no loop device, too
little free space, a data-root that already holds data), the data-root stays a plain
directory, and `lab up` says which it is and why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.lab.config import find_tool
from bench.lab.paths import LabPaths

VOLUME_MAX_BYTES = 96 << 30  # apparent size: the file is sparse and holds what is used
VOLUME_MIN_BYTES = 8 << 30
HOST_SPARE_BYTES = 4 << 30  # left free on the host when the volume is as full as it can be

Run = Callable[[Sequence[str]], None]


def _run(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=300)


def volume_file(paths: LabPaths) -> Path:
    return paths.lab_dir / "data.ext4"


def prepare(paths: LabPaths, run: Run = _run) -> str:
    """Mount the volume over the data-root when it can; say what the data-root is."""
    data_root = paths.data_root
    image = volume_file(paths)
    if is_mounted(paths):
        trim(paths, run)
        return describe(paths)
    if data_root.is_dir() and any(data_root.iterdir()):
        return describe(paths, "it held the engine's data before the lab had a volume")
    missing = [tool for tool in ("mkfs.ext4", "mount", "fstrim") if find_tool(tool) is None]
    if missing:
        return describe(paths, f"no {', '.join(missing)}")
    if os.geteuid() != 0:
        return describe(paths, "mounting needs root")
    try:
        if not image.exists():
            size = min(VOLUME_MAX_BYTES, shutil.disk_usage(paths.lab_dir).free - HOST_SPARE_BYTES)
            if size < VOLUME_MIN_BYTES:
                return describe(paths, f"too little free space for a volume at {paths.lab_dir}")
            made = image.with_suffix(".making")
            try:
                with made.open("wb") as handle:
                    handle.truncate(size)
                # -E nodiscard: mkfs would otherwise discard the whole (sparse) file first.
                run([_tool("mkfs.ext4"), "-q", "-F", "-m", "0", "-E", "nodiscard", str(made)])
                made.rename(image)
            finally:
                made.unlink(missing_ok=True)
        data_root.mkdir(parents=True, exist_ok=True)
        run([_tool("mount"), "-o", "loop,nodiscard", str(image), str(data_root)])
    except (OSError, subprocess.SubprocessError) as error:
        return describe(paths, f"the volume could not be mounted: {_reason(error)}")
    return describe(paths)


def trim(paths: LabPaths, run: Run = _run) -> bool:
    """Give the blocks the engine freed back to the host; False when there is no volume."""
    if not is_mounted(paths) or find_tool("fstrim") is None:
        return False
    try:
        run([_tool("fstrim"), str(paths.data_root)])
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def is_mounted(paths: LabPaths, mounts: Path = Path("/proc/self/mounts")) -> bool:
    """Whether the data-root is the volume: the topmost mount there is a loop device whose
    file is ours. (dockerd bind-mounts a plain data-root on itself, which is no volume.)"""
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return False
    sources = [
        fields[0]
        for fields in (line.split() for line in lines)
        if len(fields) > 1 and fields[1] == str(paths.data_root)
    ]
    if not sources or not sources[-1].startswith("/dev/loop"):
        return False
    backing = Path("/sys/block") / Path(sources[-1]).name / "loop" / "backing_file"
    try:
        return Path(backing.read_text().strip()) == volume_file(paths)
    except OSError:
        return False


def describe(paths: LabPaths, why_not: str | None = None) -> str:
    if is_mounted(paths):
        return f"ext4 volume {volume_file(paths)} without online discard, trimmed at up and down"
    reason = f" ({why_not})" if why_not else ""
    return f"a directory on the host's file system{reason}"


def _tool(name: str) -> str:
    return find_tool(name) or name


def _reason(error: BaseException) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        text = " ".join(str(error.stderr or error.stdout or "").split())
        return text[-200:] or f"{error.cmd[0]} exited with {error.returncode}"
    return " ".join(str(error).split())[-200:]
