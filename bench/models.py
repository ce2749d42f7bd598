"""Frozen records shared by measurement and rendering. Raw numbers, units in the names."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EngineInfo:
    """What the engine says about itself; goes into every result's provenance."""

    docker_host: str
    server_version: str
    api_version: str
    storage_driver: str
    operating_system: str
    cpus: int
    builder: str = "classic"


@dataclass(frozen=True)
class BuildStep:
    """One Dockerfile instruction as the builder ran it."""

    index: int
    instruction: str
    duration_seconds: float
    cached: bool

    def __post_init__(self) -> None:
        if self.duration_seconds < 0:
            raise ValueError(f"negative step duration: {self.duration_seconds}")


@dataclass(frozen=True)
class BuildOutcome:
    """What one build call produced: an image, or an error with the tail of its log."""

    ok: bool
    duration_seconds: float
    steps: tuple[BuildStep, ...] = ()
    image_id: str | None = None
    error: str | None = None
    log_tail: tuple[str, ...] = ()

    @property
    def rerun_steps(self) -> tuple[BuildStep, ...]:
        """Steps that were not cache hits (FROM and metadata-only steps included)."""
        return tuple(step for step in self.steps if not step.cached)


@dataclass(frozen=True)
class PullOutcome:
    """A base image pull; network work, kept apart from build time."""

    reference: str
    ok: bool
    duration_seconds: float
    was_present: bool
    error: str | None = None


@dataclass(frozen=True)
class Layer:
    """One entry of an image's history: the instruction and the bytes it added."""

    instruction: str
    size_bytes: int
    created_by: str = ""


@dataclass(frozen=True)
class ImageFacts:
    """Sizes of a built image."""

    image_id: str
    size_bytes: int
    layers: tuple[Layer, ...] = field(default=())
    labels: tuple[tuple[str, str], ...] = field(default=())


# Results of a run ----------------------------------------------------------------------------

SCENARIOS = ("pull", "cold", "edit", "noop")


@dataclass(frozen=True)
class Sample:
    """One timed measurement of one scenario. Failed samples are kept, with their reason."""

    variant: str
    scenario: str
    repeat: int
    ok: bool
    duration_seconds: float | None
    steps: tuple[BuildStep, ...] = ()
    error: str | None = None
    log_tail: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}")
        if self.ok and self.duration_seconds is None:
            raise ValueError("a successful sample needs a duration")

    @property
    def rerun_steps(self) -> tuple[BuildStep, ...]:
        return tuple(step for step in self.steps if not step.cached)


@dataclass(frozen=True)
class ContextStats:
    """The build context the engine received, and what `.dockerignore` kept out."""

    sent_bytes: int
    sent_files: int
    ignored_bytes: int
    ignored_files: int


@dataclass(frozen=True)
class SmokeResult:
    """Did the image run: health and a prediction answered from inside the container."""

    ok: bool
    reason: str | None = None
    ready_seconds: float | None = None
    memory_bytes: int | None = None
    health: str | None = None
    prediction: str | None = None
    log_tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageResult:
    """Sizes of the image a variant's cold build produced."""

    size_bytes: int
    compressed_bytes: int | None
    layers: tuple[Layer, ...]
    base_image: str
    base_is_standin: bool


@dataclass(frozen=True)
class VariantResult:
    """Everything measured for one variant; `status` is ok, failed or skipped."""

    name: str
    description: str
    dockerfile: str
    status: str
    reason: str | None = None
    pull: PullOutcome | None = None
    samples: tuple[Sample, ...] = ()
    image: ImageResult | None = None
    context: ContextStats | None = None
    smoke: SmokeResult | None = None

    def __post_init__(self) -> None:
        if self.status not in ("ok", "failed", "skipped"):
            raise ValueError(f"unknown status {self.status!r}")
        if self.status != "ok" and not self.reason:
            raise ValueError("a failed or skipped variant needs a reason")


@dataclass(frozen=True)
class Provenance:
    """Where and how the numbers were made."""

    engine: EngineInfo
    lab_mode: str
    bases_are_standins: bool
    bases: tuple[tuple[str, str], ...]
    python_version: str
    host: str
    cpu_count: int
    git_sha: str
    started_utc: str
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RunResult:
    """One run of the benchmark: the raw-results contract, written as JSON."""

    run_id: str
    provenance: Provenance
    variants: tuple[VariantResult, ...]
    complete: bool
    finished_utc: str | None = None
