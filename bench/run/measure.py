"""Measure variants: pull, cold, edit and noop scenarios, a smoke test, and sizes.

The runner talks to Docker only through the `Workbench` protocol, so unit tests drive the
whole pipeline with a fake. Each scenario is a function that takes the variant's row and
returns it with its samples added; the row goes to the harness's `checkpoint` after every
measurement.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from bench.context.dockerfile import base_images
from bench.context.edit import apply_edit
from bench.context.scratch import measure_context
from bench.engine.buildlog import telling_line
from bench.errors import BenchError
from bench.lab import basemap
from bench.manifest import SmokeSpec, Variant
from bench.models import (
    SMOKE_FAILURE,
    BuildOutcome,
    ContextStats,
    ImageAnalysis,
    ImageFacts,
    ImageResult,
    PullOutcome,
    Sample,
    Scenario,
    SmokeResult,
    SourceChoice,
    VariantResult,
    WheelCheck,
)
from bench.run import phases
from bench.run.scratch import ScratchCopies


class Workbench(Protocol):
    """What the runner needs from Docker (the real one is bench.run.workbench.DockerWorkbench)."""

    def pull(self, reference: str) -> PullOutcome: ...

    def build(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        on_step: Callable[[str], None] | None = None,
    ) -> BuildOutcome: ...

    def image_facts(self, reference: str) -> ImageFacts: ...

    def base_is_standin(self, reference: str) -> bool: ...

    def analyse_image(
        self,
        reference: str,
        base: str | None,
        *,
        compressed: bool,
        next_image: str | None = None,
    ) -> ImageAnalysis | None:
        """Layers, groups, findings and (with `compressed`) the gzip size, in one pass.

        `next_image` is analysed next: its `docker save` may be started meanwhile.
        """
        ...

    def smoke(self, reference: str, spec: SmokeSpec) -> SmokeResult:
        """Start the image and check it as `spec` says (without a kind: as its config suggests)."""
        ...

    def discard(self, image_ids: Sequence[str]) -> None:
        """Remove images of this run that nothing needs any more (never anyone else's)."""
        ...

    def built_images(self) -> list[str]:
        """Ids of the images built so far and not discarded, oldest first."""
        ...


class Progress(Protocol):
    def start(self, variant: str, scenario: str, repeat: int, repeats: int) -> None: ...

    def step(self, instruction: str) -> None: ...

    def done(self, sample: Sample) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass(frozen=True)
class PendingAnalysis:
    """A measured image waiting for its layer analysis."""

    variant: str
    image_id: str  # the last cold build's image: the tag moves on with the cached builds
    base: str | None
    # The variant's earlier cold builds: deleted even when images are kept.
    superseded: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunOptions:
    repeat: int = 3
    scenarios: tuple[str, ...] = ("pull", "cold", "edit", "noop")
    build_args: Mapping[str, str] = field(default_factory=dict)
    compressed: bool = True
    # The layer analysis reads the image once (docker save); the compressed size comes
    # from the same pass, so with either of the two that pass runs.
    analyse: bool = True
    # Where the analysis reads layers (`--source`): the engine's storage or `docker save`.
    layer_source: SourceChoice = "auto"
    smoke: bool = True
    smoke_timeout_seconds: float = 60.0
    # In a Python-version matrix a base may not exist for a version (python:3.13-alpine in
    # the lab): that variant is skipped for that version, not failed.
    skip_missing_bases: bool = False
    # Keep every variant's final image (the earlier cold builds' images still go).
    keep_images: bool = False
    # `--lab-base NAME=STAND-IN`: bases the lab lacks, built from a stand-in (bench/lab/basemap.py).
    lab_bases: basemap.LabBases = ()


def image_tag(variant: str, run_id: str) -> str:
    """The tag a variant's builds in a run give their image."""
    return f"dockerfile-bench/{variant}:{run_id}"


@dataclass(frozen=True)
class Harness:
    """What measuring a variant needs from its run; the session makes one for the run."""

    bench: Workbench
    run_id: str
    options: RunOptions
    progress: Progress
    clock: phases.PhaseClock  # wall seconds of the untimed work, per phase
    scratch: ScratchCopies
    # Called with the variant's row after every measurement: the session saves it.
    checkpoint: Callable[[VariantResult], None]
    # Called with the image to analyse once every variant's timed work is done
    # (bench/run/analysis_phase.py); it comes as soon as the cold builds are, so a later
    # crash of this variant's measurement does not lose it.
    analyse_later: Callable[[PendingAnalysis], None]
    # The variant's wheel check (bench/wheels/check.py), made before its builds: asking the
    # index is network work, never inside a timed build. Never raises. None: not checked.
    check_wheels: Callable[[Variant], WheelCheck] | None = None


@dataclass(frozen=True)
class BuildTarget:
    """Where a variant's builds run: its scratch context, Dockerfile and image tag."""

    context_dir: Path
    dockerfile: Path
    tag: str


def measure_variant(harness: Harness, variant: Variant) -> VariantResult:
    """All scenarios for one variant. A failure becomes data; only BenchError escapes."""
    wheel_check = None
    if harness.check_wheels is not None:
        with harness.clock.phase(phases.WHEELS):
            wheel_check = harness.check_wheels(variant)
    result = VariantResult(
        name=variant.name,
        description=variant.description,
        dockerfile=str(variant.dockerfile),
        status="ok",
        context=measure_context(variant.context, variant.dockerfile),
        dependency_override=variant.dependency_override,
        wheel_check=wheel_check,
    )
    harness.checkpoint(result)
    named = base_images(variant.dockerfile, harness.options.build_args)
    bases = basemap.resolve(named, harness.options.lab_bases)  # what the builds use
    result = pull_bases(harness, result, bases)
    if result.status != "ok":
        return result
    with harness.scratch.copy(variant.context) as context_dir:
        target = BuildTarget(
            context_dir,
            _dockerfile_in(context_dir, variant),
            image_tag(variant.name, harness.run_id),
        )
        if harness.options.lab_bases:
            rewritten = basemap.rewrite_in_scratch(
                target.dockerfile,
                context_dir,
                harness.options.build_args,
                harness.options.lab_bases,
            )
            target = replace(target, dockerfile=rewritten)
        result = _measure_builds(harness, variant, result, target, bases)
        if result.image is not None and named:
            # Reports show the Dockerfile's base; the stand-in it was built from is recorded
            # in the run's options and shown beside it.
            result = replace(result, image=replace(result.image, base_image=named[-1]))
        return result


def _measure_builds(
    harness: Harness,
    variant: Variant,
    result: VariantResult,
    target: BuildTarget,
    bases: list[str],
) -> VariantResult:
    """The builds' scenarios, in a scratch copy of the context."""
    options = harness.options
    result, cold_images = cold_builds(harness, result, target)
    if result.status != "ok":
        return result
    result = record_image(harness, result, target.tag, bases, cold_images)
    if options.smoke:
        result = smoke_test(harness, result, target.tag, variant.smoke)
    if "edit" in options.scenarios:
        result = edit_builds(harness, result, target, variant.edit_file)
    if "noop" in options.scenarios:
        result = noop_builds(harness, result, target)
    result = final_status(result)
    harness.checkpoint(result)
    return result


def pull_bases(harness: Harness, result: VariantResult, bases: list[str]) -> VariantResult:
    """Pull the bases; one that cannot be pulled fails the variant (or skips it)."""
    # Pulled before any build, untimed as build work: pull time is network, reported apart.
    pulls = [harness.bench.pull(base) for base in bases]
    failed = next((p for p in pulls if not p.ok), None)
    if "pull" in harness.options.scenarios:
        harness.progress.start(result.name, "pull", 1, 1)
        sample = Sample(
            result.name,
            "pull",
            1,
            failed is None,
            sum(p.duration_seconds for p in pulls),
            error=failed.error if failed else None,
        )
        result = _with_sample(harness, result, sample)
    result = replace(result, pull=pulls[-1] if pulls else None)
    if failed is None:
        return result
    if harness.options.skip_missing_bases:
        result = replace(
            result, status="skipped", reason=f"no {failed.reference} base ({failed.error})"
        )
    else:
        reason = f"base image {failed.reference} cannot be pulled: {failed.error}"
        result = replace(result, status="failed", reason=reason)
    harness.checkpoint(result)
    return result


def cold_builds(
    harness: Harness, result: VariantResult, target: BuildTarget
) -> tuple[VariantResult, tuple[str, ...]]:
    """Builds without the cache; the row and the ids of the images they made, oldest first.

    Without the cold scenario, one build still makes the image the others need. A first
    build that fails stops them: the rest would fail the same way.
    """
    options = harness.options
    timed = "cold" in options.scenarios
    repeats = options.repeat if timed else min(options.repeat, 1)
    images: list[str] = []
    built = False
    for repeat in range(1, repeats + 1):
        harness.progress.start(result.name, "cold", repeat, options.repeat)
        outcome = _build(harness, target, nocache=True)
        if outcome.ok and outcome.image_id:
            images.append(outcome.image_id)
        if timed:
            result = _with_sample(harness, result, _sample(result.name, "cold", repeat, outcome))
        built = built or outcome.ok
        if not outcome.ok and repeat == 1:
            break
    if not built:
        first_error = next((s for s in result.samples if s.scenario == "cold" and s.error), None)
        reason = f"build failed: {_failure(first_error) if first_error else '?'}"
        result = replace(result, status="failed", reason=reason)
        harness.checkpoint(result)
    return result, tuple(images)


def record_image(
    harness: Harness,
    result: VariantResult,
    tag: str,
    bases: list[str],
    cold_images: tuple[str, ...],
) -> VariantResult:
    """The built image's size and layers; its analysis is handed to the session for later."""
    # The analysis (a `docker save` pass) waits until every variant's timed work is done:
    # bench/run/analysis_phase.py. The tag moves on with the cached builds; the id stays
    # with what the last cold build made.
    result = replace(result, image=_image(harness.bench, tag, bases))
    options = harness.options
    if (options.analyse or options.compressed) and cold_images:
        harness.analyse_later(
            PendingAnalysis(
                result.name,
                cold_images[-1],
                bases[-1] if bases else None,
                superseded=cold_images[:-1],
            )
        )
    harness.checkpoint(result)
    return result


def smoke_test(harness: Harness, result: VariantResult, tag: str, spec: SmokeSpec) -> VariantResult:
    """Run the image and check it; only the time to healthy is timed."""
    harness.progress.note(f"{result.name}: smoke test")
    with harness.clock.phase(phases.SMOKE):
        result = replace(result, smoke=harness.bench.smoke(tag, spec))
    harness.checkpoint(result)
    return result


def edit_builds(
    harness: Harness, result: VariantResult, target: BuildTarget, edit_file: str
) -> VariantResult:
    """Builds with the cache after a one-line change to the code, each from the same state."""
    options = harness.options
    for repeat in range(1, options.repeat + 1):
        harness.progress.start(result.name, "edit", repeat, options.repeat)
        # Untimed: the cache then matches the tree, whatever ran before.
        _warm_up(harness, target)
        apply_edit(target.context_dir, edit_file, f"{harness.run_id} #{repeat}")
        outcome = _build(harness, target, nocache=False)
        result = _with_sample(harness, result, _sample(result.name, "edit", repeat, outcome))
    return result


def noop_builds(harness: Harness, result: VariantResult, target: BuildTarget) -> VariantResult:
    """Builds with the cache and nothing changed: every step should be a cache hit."""
    options = harness.options
    _warm_up(harness, target)
    for repeat in range(1, options.repeat + 1):
        harness.progress.start(result.name, "noop", repeat, options.repeat)
        outcome = _build(harness, target, nocache=False)
        result = _with_sample(harness, result, _sample(result.name, "noop", repeat, outcome))
    return result


def _failure(sample: Sample) -> str:
    """A failed build's error, with the log line that says what went wrong when the error
    only says that a command failed."""
    error = sample.error or "?"
    line = telling_line(sample.log_tail)
    return f"{error} ({line})" if line and line not in error else error


def final_status(result: VariantResult) -> VariantResult:
    """Failed if any sample failed or the smoke test did; the first failure is the reason."""
    failures = [s for s in result.samples if not s.ok]
    if failures:
        reason = f"{failures[0].scenario} build failed: {_failure(failures[0])}"
        return replace(result, status="failed", reason=reason)
    if result.smoke is not None and not result.smoke.ok:
        return replace(result, status="failed", reason=f"{SMOKE_FAILURE}: {result.smoke.reason}")
    return result


def _build(harness: Harness, target: BuildTarget, *, nocache: bool) -> BuildOutcome:
    """A timed build, its steps shown as they run."""
    return harness.bench.build(
        target.context_dir,
        target.dockerfile,
        target.tag,
        nocache=nocache,
        on_step=harness.progress.step,
    )


def _warm_up(harness: Harness, target: BuildTarget) -> None:
    """An untimed cached build that fixes the cache state before timed ones."""
    with harness.clock.phase(phases.WARM_UP):
        harness.bench.build(target.context_dir, target.dockerfile, target.tag, nocache=False)


def _with_sample(harness: Harness, result: VariantResult, sample: Sample) -> VariantResult:
    """The row with one more sample, shown and saved."""
    result = replace(result, samples=(*result.samples, sample))
    harness.progress.done(sample)
    harness.checkpoint(result)
    return result


def _dockerfile_in(scratch: Path, variant: Variant) -> Path:
    """The Dockerfile to build with: its scratch copy if it lives inside the context."""
    try:
        return scratch / variant.dockerfile.resolve().relative_to(variant.context.resolve())
    except ValueError:
        return variant.dockerfile  # outside the context: read, never modified


def _sample(variant: str, scenario: Scenario, repeat: int, outcome: BuildOutcome) -> Sample:
    return Sample(
        variant=variant,
        scenario=scenario,
        repeat=repeat,
        ok=outcome.ok,
        duration_seconds=outcome.duration_seconds,
        steps=outcome.steps,
        error=outcome.error,
        log_tail=() if outcome.ok else outcome.log_tail,
    )


def _image(bench: Workbench, tag: str, bases: list[str]) -> ImageResult:
    """What an inspection tells; the analysis and compressed size are added later."""
    facts = bench.image_facts(tag)
    final_base = bases[-1] if bases else "scratch"
    return ImageResult(
        size_bytes=facts.size_bytes,
        engine_size_bytes=facts.engine_size_bytes,
        engine_size_kind=facts.engine_size_kind,
        compressed_bytes=None,
        layers=facts.layers,
        base_image=final_base,
        base_is_standin=bench.base_is_standin(final_base) if bases else False,
    )


def crashed(variant: Variant, error: BaseException) -> VariantResult:
    """A variant whose measurement raised something unexpected: a row, not a lost run."""
    return VariantResult(
        name=variant.name,
        description=variant.description,
        dockerfile=str(variant.dockerfile),
        status="failed",
        reason=internal_error(error),
        dependency_override=variant.dependency_override,
    )


def internal_error(error: BaseException) -> str:
    """The reason a row gives for a bug of ours: the exception's last line."""
    last = traceback.format_exception_only(type(error), error)[-1].strip()
    return f"internal error: {last}"


def skipped(variant: Variant, reason: str) -> VariantResult:
    """A variant's row when it was not measured, and why."""
    return VariantResult(
        name=variant.name,
        description=variant.description,
        dockerfile=str(variant.dockerfile),
        status="skipped",
        reason=reason,
        dependency_override=variant.dependency_override,
    )


__all__ = ["BenchError", "ContextStats", "Harness", "RunOptions", "Workbench", "measure_variant"]
