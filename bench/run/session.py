"""One benchmark run: engine, provenance, variants in turn, a save after every measurement,
and cleanup of exactly what this run created, also on Ctrl-C and SIGTERM."""

from __future__ import annotations

import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import redaction, storage
from bench.engine import labels
from bench.engine.buildkit import BuildKitBuilder
from bench.engine.client import Engine
from bench.errors import EXIT_SIGINT, EXIT_SIGTERM, BenchError
from bench.lab import basemap, engine26, volume
from bench.lab.standins import lab_registry_serves
from bench.layers.sizecache import SizeCache
from bench.manifest import Manifest, Variant
from bench.models import (
    BUILDX_BUILDER_OPTION,
    SHARD_OPTION,
    SHARD_UNITS_OPTION,
    ImageAnalysis,
    Provenance,
    RunResult,
    VariantResult,
    WheelCheck,
)
from bench.run import phases
from bench.run.analysis_phase import analyse_pending, with_analysis
from bench.run.connection import (
    BuildSettings,
    Connection,
    build_settings,
    connect,
    wheel_index,
)
from bench.run.measure import (
    Harness,
    PendingAnalysis,
    Progress,
    RunOptions,
    crashed,
    internal_error,
    measure_variant,
)
from bench.run.scratch import ScratchCopies
from bench.run.workbench import DockerWorkbench
from bench.wheels.check import WheelChecker


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so the same cleanup runs."""


@dataclass(frozen=True)
class RunRequest:
    manifest: Manifest
    variants: tuple[Variant, ...]
    options: RunOptions
    out_dir: Path
    keep_images: bool = False
    network: str | None = None
    pip_index_url: str | None = None
    builder: str = "sdk"  # sdk: the engine's classic builder; buildkit: the docker CLI
    python_version: str | None = None
    # A lab engine's name or a Docker host address; None: DOCKER_HOST, else the lab's default.
    engine: str | None = None
    # `--buildx-builder NAME`: BuildKit builds go to this buildx builder (a remote BuildKit);
    # None: the engine's own BuildKit.
    buildx_builder: str | None = None
    # The wheel check (bench/wheels/): off unless asked for (`bench run` asks by default);
    # wheel_index None: the index the builds use (bench/run/connection.py's wheel_index).
    wheel_check: bool = False
    wheel_index: str | None = None
    # `run --shard K/N`: recorded, so a report over the shards' results says which made what.
    shard: str | None = None
    # ...and how many work units the whole split run has, so merging can tell it is whole.
    shard_units: int = 0


def new_run_id() -> str:
    """A new run's id: its UTC start time, then a random tail."""
    # Sorts by time; the random tail keeps two runs started in the same second apart.
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git_sha(directory: Path) -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _requested_settings(request: RunRequest, connection: Connection) -> BuildSettings:
    """The request's build arguments and network, with what its engine needs added."""
    return build_settings(
        connection,
        build_args=request.options.build_args,
        network=request.network,
        python_version=request.python_version,
        pip_index_url=request.pip_index_url,
    )


def _writable(directory: Path) -> None:
    """Fail before any build if results could not be saved: a run must never be lost."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError as error:
        raise BenchError(
            f"{directory}: cannot write results there ({error.strerror or error}); "
            "choose another directory with --out"
        ) from error


def run(request: RunRequest, progress: Progress) -> tuple[RunResult, Path, int]:
    """Measure every requested variant; returns the result, its file, and the exit code."""
    session = Session(request, progress)
    result = session.run()
    return result, session.path, exit_code(result)


def exit_code(result: RunResult) -> int:
    """0 when every variant is ok, 1 when any failed or was skipped."""
    return 0 if all(v.status == "ok" for v in result.variants) else 1


class Session:
    """One run: its engine, settings and results file, what it has measured so far, and
    what it must clean up. It saves after every measurement (storage.save is atomic), so
    a run stopped at any point still leaves its results file."""

    def __init__(self, request: RunRequest, progress: Progress) -> None:
        """Connect and describe the run (its provenance); nothing is built or saved yet."""
        self.request = request
        self.progress = progress
        self.clock = phases.PhaseClock()
        with self.clock.phase(phases.SETUP):
            _writable(request.out_dir)
            connection = connect(request.engine)
            if request.options.lab_bases and connection.mode != "lab":
                raise BenchError("--lab-base maps bases to the lab's stand-ins: run in the lab")
            self.engine = connection.engine
            self.run_id = new_run_id()
            settings = _requested_settings(request, connection)
            self.options = replace(
                request.options, build_args=settings.build_args, keep_images=request.keep_images
            )
            builder = self._builder(connection)
            self._wheels = self._wheel_checker(connection)
            self._cache_before = self._build_cache_ids(builder, connection.mode)
            # The lab's volume, to give back what the run's deleted images held (below).
            self._lab_paths = connection.paths if connection.mode == "lab" else None
            self.bench = self._workbench(builder, connection, settings.network)
            self._provenance = self._describe(connection.mode, settings.network, builder)
        self.path = request.out_dir / f"{self.run_id}.json"
        self._finished: list[VariantResult] = []
        self._current: VariantResult | None = None  # the variant being measured, so far
        self._scratch = ScratchCopies(self.run_id, self.clock)
        self._pending: list[PendingAnalysis] = []
        self._harness = self._new_harness()

    def _wheel_checker(self, connection: Connection) -> WheelChecker | None:
        if not self.request.wheel_check:
            return None
        index = wheel_index(
            connection, chosen=self.request.wheel_index, pip_index_url=self.request.pip_index_url
        )
        return WheelChecker(index)

    def run(self) -> RunResult:
        """Measure every variant, analyse the images, clean up; the complete result."""
        self._save()
        try:
            with _sigterm_raises():
                self._measure_variants()
                self._analyse_images()
        except (KeyboardInterrupt, Terminated) as interrupt:
            code = EXIT_SIGTERM if isinstance(interrupt, Terminated) else EXIT_SIGINT
            self._stop_interrupted()
            raise BenchError(f"interrupted; results so far are in {self.path}", code) from None
        except BenchError:
            with _signals_ignored():
                self._clean_up(engine_may_be_gone=True)
            raise
        return self._finish()

    def _new_harness(self) -> Harness:
        """What measure_variant needs: the run's settings, and its session to report to."""
        return Harness(
            self.bench,
            self.run_id,
            self.options,
            self.progress,
            self.clock,
            self._scratch,
            checkpoint=self._checkpoint,
            analyse_later=self._analyse_later,
            check_wheels=None if self._wheels is None else self._check_wheels,
        )

    def _check_wheels(self, variant: Variant) -> WheelCheck:
        """The variant's wheel check, with credentials in the index's URL never recorded."""
        assert self._wheels is not None
        check = self._wheels.check(
            variant.dockerfile, variant.requirements, self.options.build_args
        )
        return replace(
            check,
            index_url=redaction.redact(check.index_url),
            skipped_reason=redaction.redact(check.skipped_reason) if check.skipped_reason else None,
        )

    def _builder(self, connection: Connection) -> BuildKitBuilder | None:
        if self.request.builder != "buildkit":
            return None  # the engine's classic builder, through the SDK
        # On a lab engine, the lab's own CLI config with engine 26's buildx (while engine 26
        # is up); online, the user's CLI and whatever buildx it finds, as they set it up.
        config = engine26.cli_config(connection.paths) if connection.mode == "lab" else None
        return BuildKitBuilder(
            self.engine.docker_host or "unix:///var/run/docker.sock",
            docker_config=config,
            named_builder=self.request.buildx_builder,
        )

    def _build_cache_ids(self, builder: BuildKitBuilder | None, mode: str) -> set[str] | None:
        """BuildKit's records before the run, to remove those it adds; None: remove none."""
        # BuildKit's cache is not images: in the lab (a private engine) the records this run
        # creates are removed at the end; on a user's engine they are left alone, since a
        # record cannot be told apart from one the user's own build made meanwhile.
        if builder is None or mode != "lab":
            return None
        return self.engine.build_cache_ids()

    def _workbench(
        self, builder: BuildKitBuilder | None, connection: Connection, network: str | None
    ) -> DockerWorkbench:
        lab = connection.mode == "lab"
        return DockerWorkbench(
            self.engine,
            self.run_id,
            self.options.build_args,
            network,
            smoke_timeout_seconds=self.options.smoke_timeout_seconds,
            builder=builder,
            pull_allowed=lab_registry_serves if lab else None,
            size_cache=SizeCache(connection.paths.cache_dir / "compressed-layers.json"),
            layer_source=self.options.layer_source,
            on_note=self.progress.note,
        )

    def _describe(
        self, mode: str, network: str | None, builder: BuildKitBuilder | None
    ) -> Provenance:
        bases = _bases(self.engine, self.request.variants, self.options)
        engine = replace(
            self.engine.info(),
            builder="classic" if builder is None else "buildkit",
            buildkit_version=None if builder is None else builder.buildkit_version(),
        )
        return Provenance(
            engine=engine,
            lab_mode=mode,
            bases_are_standins=any(kind == "stand-in" for _, kind in bases),
            bases=bases,
            python_version=platform.python_version(),
            host=socket.gethostname(),
            cpu_count=os.cpu_count() or 0,
            git_sha=_git_sha(self.request.manifest.path.parent),
            started_utc=_utc_now(),
            options=_recorded_options(self.request, self.options, network, self._wheels, builder),
        )

    def _save(self, complete: bool = False) -> RunResult:
        with self.clock.phase(phases.SAVING):
            result = RunResult(
                self.run_id,
                self._provenance,
                self._rows(),
                complete,
                _utc_now() if complete else None,
                self.clock.totals(),
            )
            storage.save(result, self.path)
        return result

    def _rows(self) -> tuple[VariantResult, ...]:
        """The finished variants' rows, then the one being measured as far as it got."""
        current = () if self._current is None else (self._current,)
        return (*self._finished, *current)

    def _checkpoint(self, partial: VariantResult) -> None:
        """The variant being measured, as far as it got: saved with the finished ones."""
        self._current = partial
        self._save()

    def _finish_variant(self, row: VariantResult) -> None:
        self._finished.append(row)
        self._current = None
        self._save()

    def _measure_variants(self) -> None:
        for variant in self.request.variants:
            self._finish_variant(self._measure(variant))

    def _measure(self, variant: Variant) -> VariantResult:
        """One variant's row; a bug of ours makes it a failed row, a lost engine stops the run."""
        try:
            return measure_variant(self._harness, variant)
        except BenchError as error:
            # The engine went away (or similar): keep what we have, stop the run.
            self._finish_variant(
                replace(self._current, status="failed", reason=error.message)
                if self._current is not None
                else crashed(variant, error)
            )
            raise BenchError(f"{error.message}; results so far are in {self.path}") from error
        except Exception as error:
            return crashed(variant, error)

    def _analyse_later(self, item: PendingAnalysis) -> None:
        """A measured image, analysed once every variant's timed work is done."""
        self._pending.append(item)

    def _analyse_images(self) -> None:
        try:
            analyse_pending(
                self.bench,
                self._pending,
                compressed=self.options.compressed,
                keep_images=self.request.keep_images,
                on_analysis=self._analysed,
                on_crash=self._analysis_crashed,
                progress=self.progress,
                clock=self.clock,
            )
        except BenchError as error:
            raise BenchError(f"{error.message}; results so far are in {self.path}") from error

    def _analysed(self, item: PendingAnalysis, analysis: ImageAnalysis | None) -> None:
        keep_tables = self.options.analyse
        self._update(
            item.variant, lambda row: with_analysis(row, analysis, keep_tables=keep_tables)
        )

    def _analysis_crashed(self, item: PendingAnalysis, error: Exception) -> None:
        reason = f"layer analysis: {internal_error(error)}"
        self._update(item.variant, lambda row: replace(row, status="failed", reason=reason))

    def _update(self, variant: str, change: Callable[[VariantResult], VariantResult]) -> None:
        """A finished variant's row changed (by its layer analysis), and saved."""
        index = next(i for i, v in enumerate(self._finished) if v.name == variant)
        self._finished[index] = change(self._finished[index])
        self._save()

    def _stop_interrupted(self) -> None:
        """Keep what an interrupt stopped as a failed row, then clean up."""
        with _signals_ignored():
            if self._current is not None:
                self._finished.append(replace(self._current, status="failed", reason="interrupted"))
                self._current = None
            self._save()
            self._clean_up()

    def _finish(self) -> RunResult:
        with _signals_ignored():
            self._save(complete=True)  # kept even if cleanup then fails
            with self.clock.phase(phases.CLEANUP):
                self._clean_up()
            result = self._save(complete=True)  # the finish time and phases now include cleanup
        self.engine.close()
        return result

    def _clean_up(self, engine_may_be_gone: bool = False) -> None:
        """Remove this run's scratch copies, containers, images and BuildKit records; nothing
        else. With the engine maybe gone, a failure to reach it is a warning, not an error."""
        self.bench.close()
        # Read before anything is removed: the images of this run's builds that carry no
        # label (earlier stages of a multi-stage build, a failed build's last step), and
        # those of a build stopped before it ended (an interrupt: no variant measured them,
        # so they go even with --keep-images).
        unlabelled = self.bench.unlabelled_images()
        abandoned = self.engine.abandoned_images()
        self._scratch.remove_all()
        try:
            self._remove_from_engine(unlabelled, abandoned)
        except BenchError:
            if not engine_may_be_gone:
                raise
            print(
                f"warning: could not clean up run {self.run_id}: the engine does not answer; "
                f"its images and containers carry the label {self._selector}",
                file=sys.stderr,
            )

    @property
    def _selector(self) -> str:
        return f"{labels.RUN_ID}={self.run_id}"

    def _remove_from_engine(self, unlabelled: list[str], abandoned: tuple[str, ...]) -> None:
        engine = self.engine
        # First the tags that hold cold images: an image with two names is not deleted.
        self.bench.release_pins()
        for container_id in engine.containers_with_label(self._selector):
            engine.remove_container(container_id)
        if not self.request.keep_images:
            for image_id in [*engine.images_with_label(self._selector), *unlabelled]:
                engine.remove_image(image_id)
        for image_id in abandoned:
            engine.remove_image(image_id)
        if self._cache_before is not None:
            engine.prune_build_cache(engine.build_cache_ids() - self._cache_before)
        if self._lab_paths is not None:
            # The lab engine's data-root is an ext4 file mounted without online discard: the
            # blocks of deleted images stay in that file until a trim, and a day of runs
            # (or one multi-GB image) would fill the host's disk before the next `lab down`.
            volume.trim(self._lab_paths)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Cleanup must finish even if the user presses Ctrl-C again."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _bases(
    engine: Engine, variants: tuple[Variant, ...], options: RunOptions
) -> tuple[tuple[str, str], ...]:
    from bench.context.dockerfile import base_images

    found: dict[str, str] = {}
    for variant in variants:
        named = base_images(variant.dockerfile, options.build_args)
        for base in basemap.resolve(named, options.lab_bases):
            if base in found:
                continue
            image_labels = engine.image_labels(base)
            if image_labels.get(labels.STANDIN) == "true":
                found[base] = "stand-in"
            elif image_labels:
                found[base] = "registry"
            else:
                found[base] = "not present yet (pulled during the run)"
    return tuple(sorted(found.items()))


def _recorded_options(
    request: RunRequest,
    options: RunOptions,
    network: str | None,
    wheels: WheelChecker | None,
    builder: BuildKitBuilder | None = None,
) -> tuple[tuple[str, str], ...]:
    recorded = {
        "manifest": str(request.manifest.path),
        "variants": ",".join(v.name for v in request.variants),
        "repeat": str(options.repeat),
        "scenarios": ",".join(options.scenarios),
        "network": network or "default",
        "keep_images": str(request.keep_images).lower(),
        "build_args": ",".join(
            f"{k}={redaction.redact_value(k, v)}" for k, v in sorted(options.build_args.items())
        ),
    }
    if options.lab_bases:  # recorded only when used: runs without it read as before
        recorded[basemap.OPTION] = basemap.recorded(options.lab_bases)
    if wheels is not None:  # likewise
        recorded["wheel_index"] = redaction.redact(wheels.index_url)
    if request.shard is not None:  # likewise
        recorded[SHARD_OPTION] = request.shard
        recorded[SHARD_UNITS_OPTION] = str(request.shard_units)
    if builder is not None and builder.named is not None:  # likewise
        recorded[BUILDX_BUILDER_OPTION] = builder.named.describe()
    return tuple(sorted(recorded.items()))
