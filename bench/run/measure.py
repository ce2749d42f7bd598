"""Measure variants: pull, cold, edit and noop scenarios, a smoke test, and sizes.

The runner talks to Docker only through the `Workbench` protocol, so unit tests drive the
whole pipeline with a fake. Results are handed to `checkpoint` after every measurement.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from bench.context.dockerfile import base_images
from bench.context.scratch import apply_edit, measure_context, remove_scratch, scratch_copy
from bench.errors import BenchError
from bench.manifest import Variant
from bench.models import (
    BuildOutcome,
    ContextStats,
    ImageAnalysis,
    ImageFacts,
    ImageResult,
    PullOutcome,
    Sample,
    Scenario,
    SmokeResult,
    VariantResult,
)
from bench.run import phases


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

    def smoke(self, reference: str) -> SmokeResult: ...

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
    smoke: bool = True
    smoke_timeout_seconds: float = 60.0
    # In a Python-version matrix a base may not exist for a version (python:3.13-alpine in
    # the lab): that variant is skipped for that version, not failed.
    skip_missing_bases: bool = False
    # Keep every variant's final image (the earlier cold builds' images still go).
    keep_images: bool = False


def image_tag(variant: str, run_id: str) -> str:
    return f"dockerfile-bench/{variant}:{run_id}"


def measure_variant(
    bench: Workbench,
    variant: Variant,
    run_id: str,
    options: RunOptions,
    progress: Progress,
    checkpoint: Callable[[VariantResult], None],
    scratch_dirs: list[Path],
    clock: phases.PhaseClock | None = None,
    pending: list[PendingAnalysis] | None = None,
) -> VariantResult:
    """All scenarios for one variant. A failure becomes data; only BenchError escapes.

    `clock` gets the wall seconds of the untimed work, per phase (bench/run/phases.py); the
    image to analyse is appended to `pending` (analysed by bench/run/analysis_phase.py).
    """
    clock = clock or phases.PhaseClock()
    result = VariantResult(
        name=variant.name,
        description=variant.description,
        dockerfile=str(variant.dockerfile),
        status="ok",
        context=measure_context(variant.context, variant.dockerfile),
    )
    checkpoint(result)
    tag = image_tag(variant.name, run_id)

    def add(sample: Sample) -> None:
        nonlocal result
        result = replace(result, samples=(*result.samples, sample))
        progress.done(sample)
        checkpoint(result)

    bases = base_images(variant.dockerfile, options.build_args)
    # Pull first, untimed as build work: pull time is network and is reported apart.
    pulls = [_pull(bench, base) for base in bases]
    failed_pull = next((p for p in pulls if not p.ok), None)
    if "pull" in options.scenarios:
        progress.start(variant.name, "pull", 1, 1)
        add(
            Sample(
                variant.name,
                "pull",
                1,
                failed_pull is None,
                sum(p.duration_seconds for p in pulls),
                error=failed_pull.error if failed_pull else None,
            )
        )
    result = replace(result, pull=pulls[-1] if pulls else None)
    if failed_pull is not None and options.skip_missing_bases:
        result = replace(
            result,
            status="skipped",
            reason=f"no {failed_pull.reference} base ({failed_pull.error})",
        )
        checkpoint(result)
        return result
    if failed_pull is not None:
        result = replace(
            result,
            status="failed",
            reason=f"base image {failed_pull.reference} cannot be pulled: {failed_pull.error}",
        )
        checkpoint(result)
        return result

    with clock.phase(phases.SCRATCH):
        scratch = scratch_copy(variant.context, run_id)
    scratch_dirs.append(scratch)
    dockerfile = _dockerfile_in(scratch, variant)
    try:
        built = None
        cold_images: list[str] = []
        for repeat in range(1, options.repeat + 1):
            if "cold" not in options.scenarios and built is not None:
                break
            progress.start(variant.name, "cold", repeat, options.repeat)
            outcome = bench.build(scratch, dockerfile, tag, nocache=True, on_step=progress.step)
            if outcome.ok and outcome.image_id:
                cold_images.append(outcome.image_id)
            if "cold" in options.scenarios:
                add(_sample(variant.name, "cold", repeat, outcome))
            if outcome.ok and built is None:
                built = outcome
            if not outcome.ok and built is None and repeat == 1:
                break
        if built is None:
            first_error = next(
                (s for s in result.samples if s.scenario == "cold" and s.error), None
            )
            result = replace(
                result,
                status="failed",
                reason=f"build failed: {first_error.error if first_error else '?'}",
            )
            checkpoint(result)
            return result

        # The analysis (a `docker save` pass) waits until every variant's timed work is
        # done: bench/run/analysis_phase.py. The tag moves on with the cached builds; the id
        # stays with what the cold build made.
        result = replace(result, image=_image(bench, tag, bases))
        if (options.analyse or options.compressed) and cold_images and pending is not None:
            pending.append(
                PendingAnalysis(
                    variant.name,
                    cold_images[-1],
                    bases[-1] if bases else None,
                    superseded=tuple(cold_images[:-1]),
                )
            )
        checkpoint(result)
        if options.smoke:
            progress.note(f"{variant.name}: smoke test")
            with clock.phase(phases.SMOKE):
                result = replace(result, smoke=bench.smoke(tag))
            checkpoint(result)

        if "edit" in options.scenarios:
            for repeat in range(1, options.repeat + 1):
                progress.start(variant.name, "edit", repeat, options.repeat)
                with clock.phase(phases.WARM_UP):
                    # Untimed: the cache then matches the tree, whatever ran before.
                    bench.build(scratch, dockerfile, tag, nocache=False)
                apply_edit(scratch, variant.edit_file, f"{run_id} #{repeat}")
                outcome = bench.build(
                    scratch, dockerfile, tag, nocache=False, on_step=progress.step
                )
                add(_sample(variant.name, "edit", repeat, outcome))
        if "noop" in options.scenarios:
            with clock.phase(phases.WARM_UP):
                bench.build(scratch, dockerfile, tag, nocache=False)
            for repeat in range(1, options.repeat + 1):
                progress.start(variant.name, "noop", repeat, options.repeat)
                outcome = bench.build(
                    scratch, dockerfile, tag, nocache=False, on_step=progress.step
                )
                add(_sample(variant.name, "noop", repeat, outcome))
        failures = [s for s in result.samples if not s.ok]
        if failures:
            result = replace(
                result,
                status="failed",
                reason=f"{failures[0].scenario} build failed: {failures[0].error}",
            )
        elif result.smoke is not None and not result.smoke.ok:
            result = replace(
                result, status="failed", reason=f"smoke test failed: {result.smoke.reason}"
            )
        checkpoint(result)
        return result
    finally:
        with clock.phase(phases.SCRATCH):
            remove_scratch(scratch)
        scratch_dirs.remove(scratch)


def _dockerfile_in(scratch: Path, variant: Variant) -> Path:
    """The Dockerfile to build with: its scratch copy if it lives inside the context."""
    try:
        return scratch / variant.dockerfile.resolve().relative_to(variant.context.resolve())
    except ValueError:
        return variant.dockerfile  # outside the context: read, never modified


def _pull(bench: Workbench, reference: str) -> PullOutcome:
    return bench.pull(reference)


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
    )


def internal_error(error: BaseException) -> str:
    """The reason a row gives for a bug of ours: the exception's last line."""
    last = traceback.format_exception_only(type(error), error)[-1].strip()
    return f"internal error: {last}"


def skipped(variant: Variant, reason: str) -> VariantResult:
    return VariantResult(
        name=variant.name,
        description=variant.description,
        dockerfile=str(variant.dockerfile),
        status="skipped",
        reason=reason,
    )


__all__ = ["BenchError", "ContextStats", "RunOptions", "Workbench", "measure_variant"]
