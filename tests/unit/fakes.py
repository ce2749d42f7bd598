"""A fake Workbench that behaves like the classic builder's cache, with scripted timings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.context.dockerfile import _logical_lines
from bench.manifest import SmokeSpec
from bench.models import (
    BuildOutcome,
    BuildStep,
    ImageAnalysis,
    ImageFacts,
    Layer,
    LayerAnalysis,
    PullOutcome,
    SizeGroup,
    SmokeResult,
    VariantResult,
    WastedPath,
)
from bench.run.measure import Harness, PendingAnalysis, RunOptions
from bench.run.phases import PhaseClock
from bench.run.progress import SilentProgress
from bench.run.scratch import ScratchCopies

# Seconds each instruction takes when it runs (not cached); a cache hit takes 10 ms.
SCRIPTED_SECONDS = {"pip install": 12.0, "python train.py": 1.5}
DEFAULT_SECONDS = 0.1
CACHE_HIT_SECONDS = 0.01


@dataclass
class Handed:
    """What measuring handed its run: every row saved, and the images to analyse later."""

    saved: list[VariantResult] = field(default_factory=list)
    pending: list[PendingAnalysis] = field(default_factory=list)


def fake_harness(
    bench: FakeWorkbench, options: RunOptions, clock: PhaseClock | None = None
) -> tuple[Harness, Handed]:
    """A harness as a run's session makes one, recording what it is handed."""
    clock = clock or PhaseClock()
    handed = Handed()
    harness = Harness(
        bench,
        "run1",
        options,
        SilentProgress(),
        clock,
        ScratchCopies("run1", clock),
        checkpoint=handed.saved.append,
        analyse_later=handed.pending.append,
    )
    return harness, handed


class FakeWorkbench:
    """Each step's cache key chains the previous key, the instruction and what it copies."""

    def __init__(
        self,
        fail_build: set[str] | None = None,
        failing_smoke: set[str] | None = None,
        missing_bases: set[str] | None = None,
    ) -> None:
        self.cache: set[str] = set()
        self.builds: list[tuple[str, bool]] = []
        self.contexts: list[Path] = []  # each build's context directory
        self.fail_build = fail_build or set()
        self.failing_smoke = failing_smoke or set()
        self.missing_bases = missing_bases or set()
        self.images: dict[str, int] = {}
        self.analysed: list[tuple[str, str | None, bool]] = []
        self.staged_next: list[str | None] = []
        self.analysis_errors: dict[str, Exception] = {}  # image id -> what its analysis raises
        self.discarded: list[str] = []
        self.built: list[str] = []

    def pull(self, reference: str) -> PullOutcome:
        if reference in self.missing_bases:
            return PullOutcome(reference, False, 0.5, False, error="manifest unknown")
        return PullOutcome(reference, True, 0.25, True)

    def build(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        on_step: Callable[[str], None] | None = None,
    ) -> BuildOutcome:
        self.builds.append((tag, nocache))
        self.contexts.append(context_dir)
        steps: list[BuildStep] = []
        key = ""
        for line in _logical_lines(dockerfile.read_text()):
            if not line.strip():
                continue
            instruction = " ".join(line.split())
            if any(name in tag for name in self.fail_build) and instruction.startswith("RUN"):
                return BuildOutcome(
                    ok=False,
                    duration_seconds=1.0,
                    steps=tuple(steps),
                    error="The command '/bin/sh -c false' returned a non-zero code: 1",
                    log_tail=("step failed", "exit 1"),
                )
            key = hashlib.sha256(
                (key + instruction + _copied(context_dir, instruction)).encode()
            ).hexdigest()
            cached = not nocache and key in self.cache
            self.cache.add(key)
            if on_step:
                on_step(instruction)
            seconds = (
                CACHE_HIT_SECONDS
                if cached
                else next(
                    (s for k, s in SCRIPTED_SECONDS.items() if k in instruction), DEFAULT_SECONDS
                )
            )
            steps.append(BuildStep(len(steps) + 1, instruction, seconds, cached))
        self.images[tag] = len(steps)
        # A build without the cache commits new images even for the same steps.
        image_id = f"sha256:{key}" + (f"-{len(self.builds)}" if nocache else "")
        self.built.append(image_id)
        return BuildOutcome(
            ok=True,
            duration_seconds=sum(s.duration_seconds for s in steps),
            steps=tuple(steps),
            image_id=image_id,
        )

    def discard(self, image_ids: Sequence[str]) -> None:
        self.discarded += image_ids

    def built_images(self) -> list[str]:
        discarded = set(self.discarded)
        return [image for image in dict.fromkeys(self.built) if image not in discarded]

    def image_facts(self, reference: str) -> ImageFacts:
        return ImageFacts(
            image_id="sha256:x",
            size_bytes=400_000_000,
            layers=(Layer("FROM", 150_000_000), Layer("RUN pip", 250_000_000)),
        )

    def base_is_standin(self, reference: str) -> bool:
        return True

    def analyse_image(
        self,
        reference: str,
        base: str | None,
        *,
        compressed: bool,
        next_image: str | None = None,
    ) -> ImageAnalysis | None:
        self.analysed.append((reference, base, compressed))
        self.staged_next.append(next_image)
        if reference in self.discarded:
            raise AssertionError(f"{reference} analysed after it was discarded")
        if reference in self.analysis_errors:
            raise self.analysis_errors[reference]
        return ImageAnalysis(
            size_bytes=400_000_000,
            symlink_bytes=0,
            compressed_bytes=140_000_000 if compressed else None,
            efficiency=0.99,
            wasted_bytes=4_000_000,
            base_layer_count=1,
            app_dir="/app",
            layers=(
                LayerAnalysis(0, "", 150_000_000, None, 5_000, 0, 0, in_base=True),
                LayerAnalysis(1, "RUN pip", 250_000_000, None, 6_000, 2, 0, in_base=False),
            ),
            top_wasted=(WastedPath("/var/lib/dpkg/status", 4_000_000, 2),),
            groups=(
                SizeGroup("base", "base image", 150_000_000, 5_000),
                SizeGroup("package", "scipy", 250_000_000, 6_002),
            ),
            findings=(),
        )

    def smoke(self, reference: str, spec: SmokeSpec) -> SmokeResult:
        if any(name in reference for name in self.failing_smoke):
            return SmokeResult(
                ok=False,
                reason="container exited with code 1",
                log_tail=("ImportError: libstdc++.so.6",),
            )
        return SmokeResult(
            ok=True,
            ready_seconds=1.2,
            memory_bytes=90_000_000,
            health='{"status":"ok"}',
            prediction='{"label":"setosa"}',
        )


def _copied(context_dir: Path, instruction: str) -> str:
    """The content a COPY/ADD brings in, so an edited file busts that step's cache."""
    match = re.match(r"^(COPY|ADD)\s+(?:--\S+\s+)*(.+)\s+\S+$", instruction)
    if not match:
        return ""
    digest = hashlib.sha256()
    for source in match.group(2).split():
        for path in (
            sorted((context_dir / source).resolve().rglob("*"))
            if source == "."
            else [context_dir / source]
        ):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(context_dir)).encode() + path.read_bytes())
    return digest.hexdigest()
