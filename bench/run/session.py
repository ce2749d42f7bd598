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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import storage
from bench.engine import labels
from bench.engine.buildkit import BuildKitBuilder
from bench.engine.client import Engine
from bench.errors import EXIT_SIGINT, EXIT_SIGTERM, BenchError
from bench.lab import control
from bench.lab.paths import LabPaths
from bench.lab.standins import lab_registry_serves
from bench.layers.sizecache import SizeCache
from bench.manifest import Manifest, Variant
from bench.models import ImageAnalysis, Provenance, RunResult, VariantResult
from bench.run import phases
from bench.run.analysis_phase import analyse_pending, with_analysis
from bench.run.measure import (
    PendingAnalysis,
    Progress,
    RunOptions,
    crashed,
    internal_error,
    measure_variant,
)
from bench.run.smoke import SmokeSpec
from bench.run.workbench import DockerWorkbench


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


def new_run_id() -> str:
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


def connect() -> tuple[Engine, str, LabPaths]:
    """The engine to use (the lab's or a reachable one), its mode, and the lab's paths."""
    paths = LabPaths.default()
    docker_host = control.resolve_docker_host(paths)
    engine = Engine(docker_host)
    mode = "lab" if docker_host == paths.docker_host else "online"
    return engine, mode, paths


def build_settings(
    request: RunRequest, mode: str, paths: LabPaths
) -> tuple[dict[str, str], str | None]:
    """The build arguments and network mode every build of this request uses."""
    build_args: dict[str, str] = dict(request.options.build_args)
    network = request.network
    if request.python_version:
        build_args["PYTHON_VERSION"] = request.python_version
    if request.pip_index_url:
        build_args["PIP_INDEX_URL"] = request.pip_index_url
    elif mode == "lab":
        # pip in the build cannot reach PyPI here: the lab's wheelhouse on loopback.
        build_args["PIP_FIND_LINKS"] = paths.wheelhouse_url
        build_args["PIP_NO_INDEX"] = "1"
    if mode == "lab":
        # The lab engine has no bridge: builds use the host network (BuildKit's RUN fails
        # with "network bridge not found" otherwise).
        network = network or "host"
    return build_args, network


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
    clock = phases.PhaseClock()
    setup_started = time.perf_counter()
    _writable(request.out_dir)
    engine, mode, paths = connect()
    run_id = new_run_id()
    build_args, network = build_settings(request, mode, paths)
    options = replace(request.options, build_args=build_args, keep_images=request.keep_images)
    builder = None
    cache_before: set[str] | None = None
    if request.builder == "buildkit":
        builder = BuildKitBuilder(engine.docker_host or "unix:///var/run/docker.sock")
        # BuildKit's cache is not images: in the lab (a private engine) the records this run
        # creates are removed at the end; on a user's engine they are left alone, since a
        # record cannot be told apart from one the user's own build made meanwhile.
        cache_before = engine.build_cache_ids() if mode == "lab" else None
    bench = DockerWorkbench(
        engine,
        run_id,
        build_args,
        network,
        smoke_spec=SmokeSpec(ready_timeout_seconds=options.smoke_timeout_seconds),
        builder=builder,
        pull_allowed=lab_registry_serves if mode == "lab" else None,
        size_cache=SizeCache(paths.cache_dir / "compressed-layers.json"),
    )
    bases = _bases(engine, request.variants, options)
    provenance = Provenance(
        engine=replace(engine.info(), builder="buildkit" if builder else "classic"),
        lab_mode=mode,
        bases_are_standins=any(kind == "stand-in" for _, kind in bases),
        bases=bases,
        python_version=platform.python_version(),
        host=socket.gethostname(),
        cpu_count=os.cpu_count() or 0,
        git_sha=_git_sha(request.manifest.path.parent),
        started_utc=_utc_now(),
        options=_recorded_options(request, options, network),
    )
    path = request.out_dir / f"{run_id}.json"
    finished: list[VariantResult] = []
    current: list[VariantResult] = []
    scratch_dirs: list[Path] = []
    pending: list[PendingAnalysis] = []

    def save(complete: bool = False) -> RunResult:
        with clock.phase(phases.SAVING):
            result = RunResult(
                run_id,
                provenance,
                (*finished, *current),
                complete,
                _utc_now() if complete else None,
                clock.totals(),
            )
            storage.save(result, path)
        return result

    def checkpoint(partial: VariantResult) -> None:
        current[:] = [partial]
        save()

    def update(variant: str, change: Callable[[VariantResult], VariantResult]) -> None:
        index = next(i for i, v in enumerate(finished) if v.name == variant)
        finished[index] = change(finished[index])
        save()

    def analysed(item: PendingAnalysis, analysis: ImageAnalysis | None) -> None:
        update(item.variant, lambda row: with_analysis(row, analysis, keep_tables=options.analyse))

    def analysis_crashed(item: PendingAnalysis, error: Exception) -> None:
        reason = f"layer analysis: {internal_error(error)}"
        update(item.variant, lambda row: replace(row, status="failed", reason=reason))

    def clean_up(engine_may_be_gone: bool = False) -> None:
        bench.close()
        _cleanup(
            engine,
            run_id,
            request.keep_images,
            scratch_dirs,
            cache_before,
            engine_may_be_gone=engine_may_be_gone,
            unlabelled=bench.unlabelled_images(),
            abandoned=engine.abandoned_images(),
        )

    clock.add(phases.SETUP, time.perf_counter() - setup_started)
    save()
    try:
        with _sigterm_raises():
            for variant in request.variants:
                try:
                    outcome = measure_variant(
                        bench,
                        variant,
                        run_id,
                        options,
                        progress,
                        checkpoint,
                        scratch_dirs,
                        clock,
                        pending,
                    )
                except BenchError as error:
                    # The engine went away (or similar): keep what we have, stop the run.
                    finished.append(
                        replace(current[0], status="failed", reason=error.message)
                        if current
                        else crashed(variant, error)
                    )
                    current.clear()
                    save()
                    raise BenchError(f"{error.message}; results so far are in {path}") from error
                except Exception as error:
                    outcome = crashed(variant, error)
                finished.append(outcome)
                current.clear()
                save()

            try:
                analyse_pending(
                    bench,
                    pending,
                    compressed=options.compressed,
                    keep_images=request.keep_images,
                    on_analysis=analysed,
                    on_crash=analysis_crashed,
                    progress=progress,
                    clock=clock,
                )
            except BenchError as error:
                raise BenchError(f"{error.message}; results so far are in {path}") from error
    except (KeyboardInterrupt, Terminated) as interrupt:
        code = EXIT_SIGTERM if isinstance(interrupt, Terminated) else EXIT_SIGINT
        with _signals_ignored():
            if current:
                finished.append(replace(current[0], status="failed", reason="interrupted"))
                current.clear()
            save()
            clean_up()
        raise BenchError(f"interrupted; results so far are in {path}", code) from None
    except BenchError:
        with _signals_ignored():
            clean_up(engine_may_be_gone=True)
        raise
    with _signals_ignored():
        save(complete=True)  # kept even if cleanup then fails
        with clock.phase(phases.CLEANUP):
            clean_up()
        result = save(complete=True)  # the finish time and phases now include cleanup
    engine.close()
    exit_code = 0 if all(v.status == "ok" for v in result.variants) else 1
    return result, path, exit_code


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Cleanup must finish even if the user presses Ctrl-C again."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cleanup(
    engine: Engine,
    run_id: str,
    keep_images: bool,
    scratch_dirs: list[Path],
    cache_before: set[str] | None,
    engine_may_be_gone: bool = False,
    unlabelled: list[str] | None = None,
    abandoned: tuple[str, ...] = (),
) -> None:
    """Remove this run's containers, images and scratch copies; nothing else.

    `unlabelled` are images of this run's builds that carry no label (earlier stages of a
    multi-stage build, a failed build's last step): known from the build output.
    `abandoned` are those of a build stopped before it ended (an interrupt): no variant
    measured them, so they go even with --keep-images.
    """
    from bench.context.scratch import remove_scratch

    for scratch in list(scratch_dirs):
        remove_scratch(scratch)
    selector = f"{labels.RUN_ID}={run_id}"
    try:
        for container_id in engine.containers_with_label(selector):
            engine.remove_container(container_id)
        if not keep_images:
            for image_id in [*engine.images_with_label(selector), *(unlabelled or [])]:
                engine.remove_image(image_id)
        for image_id in abandoned:
            engine.remove_image(image_id)
        if cache_before is not None:
            engine.prune_build_cache(engine.build_cache_ids() - cache_before)
    except BenchError:
        if not engine_may_be_gone:
            raise
        print(
            f"warning: could not clean up run {run_id}: the engine does not answer; its images "
            f"carry the label {selector}",
            file=sys.stderr,
        )


def _bases(
    engine: Engine, variants: tuple[Variant, ...], options: RunOptions
) -> tuple[tuple[str, str], ...]:
    from bench.context.dockerfile import base_images

    found: dict[str, str] = {}
    for variant in variants:
        for base in base_images(variant.dockerfile, options.build_args):
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
    request: RunRequest, options: RunOptions, network: str | None
) -> tuple[tuple[str, str], ...]:
    recorded = {
        "manifest": str(request.manifest.path),
        "variants": ",".join(v.name for v in request.variants),
        "repeat": str(options.repeat),
        "scenarios": ",".join(options.scenarios),
        "network": network or "default",
        "keep_images": str(request.keep_images).lower(),
        "build_args": ",".join(
            f"{k}={storage.redact_value(k, v)}" for k, v in sorted(options.build_args.items())
        ),
    }
    return tuple(sorted(recorded.items()))
