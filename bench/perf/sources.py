"""The layer analysis read from the engine's storage, from `docker save`, and dive's: whole
processes, interleaved, with wall time, CPU time and peak memory each. A benchmark, not a test.

Contenders, each a new process (start-up, imports and the engine's answers included):

- ours (storage): `python -m bench layers IMAGE --json --source storage`;
- ours (save): the same with `--source save`;
- dive: `dive IMAGE --ci`.

CPU time and peak resident memory are the process's own, as GNU time reports them (see
`run_measured` for why not wait4 here): what the engine spends exporting an image for a
save is not in them (it is in the wall time). Each contender takes each place in the order in
turn, so a drift of the machine (page cache, another job) favours none.

The large image is generated here: a tar of `files` files of zeros adding up to `size_bytes`
(sizes spread from a tenth to twice the mean), sent to `docker import` as it is made, and
deleted at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.engine import labels
from bench.engine.client import Engine
from bench.errors import BenchError
from bench.perf.builds import Pair
from bench.perf.layers import Say, dive_binary

CONTENDERS = ("ours (storage)", "ours (save)", "dive")
_FILES_PER_DIRECTORY = 1000
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ProcessSample:
    """One whole process: its wall time, CPU time (user + system) and peak resident memory."""

    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int


@dataclass(frozen=True)
class SourcesComparison:
    """The three contenders on one image, every sample in the order they ran."""

    label: str  # what the image is, for the page ("the full variant", "generated")
    image: str
    size_bytes: int
    file_count: int
    layer_count: int
    storage: tuple[ProcessSample, ...]
    save: tuple[ProcessSample, ...]
    dive: tuple[ProcessSample, ...]
    # Whether the storage path's analysis equals the save path's, number for number.
    same_numbers: bool

    def samples(self, contender: str) -> tuple[ProcessSample, ...]:
        return {"ours (storage)": self.storage, "ours (save)": self.save, "dive": self.dive}[
            contender
        ]

    def wall_pair(self) -> Pair:
        """Ours (storage) against dive, wall time: its ratio is ours / dive."""
        return Pair(
            f"sources-{self.label}",
            tuple(sample.wall_seconds for sample in self.storage),
            tuple(sample.wall_seconds for sample in self.dive),
        )


def run_measured(
    argv: list[str], environment: dict[str, str], output: Path | None
) -> ProcessSample:
    """Run `argv` to its end under GNU time; its own CPU time and peak memory.

    Not wait4 on our own child: a child forked (or vforked) from this process starts with
    this process's memory, and the kernel's peak for it (ru_maxrss) keeps that peak across
    exec: a 1 MB `true` reads as large as the benchmark itself. GNU time is a small C
    program whose child starts small.
    """
    timer = shutil.which("time") or "/usr/bin/time"
    if not Path(timer).is_file():
        raise BenchError("the layer sources benchmark needs GNU time: `apt-get install time`")
    with tempfile.TemporaryDirectory(prefix="dockerfile-bench-time-") as scratch:
        usage = Path(scratch) / "usage"
        started = time.perf_counter()
        with output.open("wb") if output else open(os.devnull, "wb") as sink:  # noqa: PTH123
            finished = subprocess.run(
                [timer, "-f", "%U %S %M", "-o", os.fspath(usage), *argv],
                env=environment,
                stdout=sink,
                stderr=subprocess.PIPE,
                check=False,
            )
        wall = time.perf_counter() - started
        report = usage.read_text().split() if usage.is_file() else []
    said = " ".join(finished.stderr.decode("utf-8", "replace").split())[-300:]
    if finished.returncode not in (0, 1):  # dive --ci exits 1 when one of its rules fails
        raise BenchError(f"{argv} exited with {finished.returncode}: {said}")
    try:
        user, system, peak_kib = float(report[-3]), float(report[-2]), int(report[-1])
    except (IndexError, ValueError):
        raise BenchError(f"GNU time gave no usage for {argv}: {report} ({said})") from None
    return ProcessSample(wall, user + system, peak_kib * 1024)


def compare_sources(
    engine: Engine,
    image: str,
    label: str,
    base: str | None,
    repeat: int,
    progress: Say = lambda _: None,
) -> SourcesComparison:
    """Time the three contenders `repeat` times each on `image`, interleaved."""
    docker_host = engine.docker_host or "unix:///var/run/docker.sock"
    environment = {**os.environ, "DOCKER_HOST": docker_host, "NO_COLOR": "1"}
    ours = [sys.executable, "-m", "bench", "layers", image, "--json"]
    ours += ["--base", base] if base else []
    commands = {
        "ours (storage)": [*ours, "--source", "storage"],
        "ours (save)": [*ours, "--source", "save"],
        "dive": [str(dive_binary()), image, "--ci"],
    }
    samples: dict[str, list[ProcessSample]] = {name: [] for name in CONTENDERS}
    documents: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="dockerfile-bench-sources-") as scratch:
        for index in range(repeat):
            shift = index % len(CONTENDERS)
            for who in CONTENDERS[shift:] + CONTENDERS[:shift]:
                output = Path(scratch) / "out.json" if who.startswith("ours") else None
                samples[who].append(run_measured(commands[who], environment, output))
                if output is not None and who not in documents:
                    documents[who] = json.loads(output.read_text())["analysis"]
            progress(
                f"sources {label} {index + 1}/{repeat}: "
                + ", ".join(
                    f"{who} {samples[who][-1].wall_seconds:.2f} s "
                    f"{samples[who][-1].peak_rss_bytes / 2**20:.0f} MiB"
                    for who in CONTENDERS
                )
            )
    stored, saved = documents["ours (storage)"], documents["ours (save)"]
    same = {**stored, "source": None} == {**saved, "source": None}
    files = sum(layer["files_added"] + layer["files_changed"] for layer in stored["layers"])
    return SourcesComparison(
        label=label,
        image=image,
        size_bytes=int(stored["size_bytes"]),
        file_count=files,
        layer_count=len(stored["layers"]),
        storage=tuple(samples["ours (storage)"]),
        save=tuple(samples["ours (save)"]),
        dive=tuple(samples["dive"]),
        same_numbers=same,
    )


def generated_tar(file_count: int, size_bytes: int) -> Iterator[bytes]:
    """A layer tar of `file_count` files of zeros, `size_bytes` in all, in folders of 1000,
    made as it is sent (about a MiB at a time)."""
    mean = size_bytes // max(file_count, 1)
    pending = bytearray()
    written = 0
    for index in range(file_count):
        if index % _FILES_PER_DIRECTORY == 0:
            folder = tarfile.TarInfo(f"data/d{index // _FILES_PER_DIRECTORY:04d}")
            folder.type = tarfile.DIRTYPE
            folder.mode = 0o755
            pending += folder.tobuf(tarfile.PAX_FORMAT)
        # A spread of sizes from a tenth to about twice the mean, the same every time;
        # the last file takes what is left so the total is exact.
        size = mean // 10 + (index * 7919) % (2 * mean - mean // 5 + 1)
        if index == file_count - 1:
            size = max(size_bytes - written, 0)
        size = min(size, max(size_bytes - written, 0))
        info = tarfile.TarInfo(
            f"data/d{index // _FILES_PER_DIRECTORY:04d}/f{index % _FILES_PER_DIRECTORY:03d}.bin"
        )
        info.size = size
        info.mode = 0o644
        pending += info.tobuf(tarfile.PAX_FORMAT)
        pending += bytes(size + (-size % tarfile.BLOCKSIZE))
        written += size
        if len(pending) >= _CHUNK_BYTES:
            yield bytes(pending)
            pending.clear()
    pending += bytes(2 * tarfile.BLOCKSIZE)
    yield bytes(pending)


@contextmanager
def generated_image(
    engine: Engine, run_id: str, file_count: int, size_bytes: int, progress: Say
) -> Iterator[str]:
    """A generated image of `file_count` files and `size_bytes` bytes, deleted afterwards."""
    tag = f"dockerfile-bench/perf-large:{run_id}"
    progress(f"sources: importing a generated image ({file_count:,} files, {size_bytes:,} bytes)")
    started = time.perf_counter()
    engine.import_tar(generated_tar(file_count, size_bytes), tag, labels.for_run(run_id))
    progress(f"sources: imported in {time.perf_counter() - started:.0f} s")
    try:
        yield tag
    finally:
        engine.remove_image(tag)


def median_of(samples: tuple[ProcessSample, ...], field: str) -> float:
    return statistics.median(float(getattr(sample, field)) for sample in samples)
