"""Frozen records shared by measurement and rendering. Raw numbers, units in the names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from bench.dependencies import NO_OVERRIDE, DependencyOverride, installs_dependencies

# Closed sets: mypy strict checks every comparison against them.
Status = Literal["ok", "failed", "skipped"]
Scenario = Literal["pull", "cold", "edit", "noop"]
SCENARIOS: tuple[Scenario, ...] = get_args(Scenario)
# How reports, charts and progress lines name each scenario.
SCENARIO_LABELS: dict[Scenario, str] = {
    "pull": "pull",
    "cold": "cold build",
    "edit": "edit rebuild",
    "noop": "no-op rebuild",
}
# Where an engine keeps images: a graph driver (overlay2: Engine 20.10, and later engines
# upgraded in place) or containerd's snapshotters (the default of Engine 29 and Docker
# Desktop 4.34); the engine's own image Size means something different in each.
ImageStore = Literal["graphdriver", "containerd"]
# Where a layer analysis read the layers: `docker save`, or the engine's storage directories.
AnalysisSource = Literal["save", "storage"]
ANALYSIS_SOURCES: tuple[AnalysisSource, ...] = get_args(AnalysisSource)
# What a user asks for (`--source`): auto takes the storage when it can be read.
SourceChoice = Literal["auto", "save", "storage"]
SOURCE_CHOICES: tuple[SourceChoice, ...] = get_args(SourceChoice)
# What the engine's Size counts: the unpacked layers, or the content it stores (compressed
# blobs, manifests and configs, on the containerd store).
EngineSizeKind = Literal["unpacked", "content"]
# How a variant's reason starts when its builds succeeded and its image did not run.
SMOKE_FAILURE = "smoke test failed"
# The provenance option naming the buildx builder of a run built with `--buildx-builder`
# (`NAME (DRIVER driver)`); absent: the engine's own builder.
BUILDX_BUILDER_OPTION = "buildx_builder"
# The provenance options of a shard's results (`run --shard K/N`): `K/N`, and how many work
# units the whole split run has, so a merge can tell whether the shards add up to it.
SHARD_OPTION = "shard"
SHARD_UNITS_OPTION = "shard_units"
# The scenarios that time a build (pull is network work).
BUILD_SCENARIOS: tuple[Scenario, ...] = ("cold", "edit", "noop")


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
    image_store: ImageStore = "graphdriver"
    # The BuildKit client that drove the builds and its version: buildx's version line
    # (`github.com/docker/buildx 0.13.1+ds1`: --progress=rawjson), or the docker CLI's
    # (`Docker version 20.10.24+dfsg1, ...`: --progress=plain). None: the classic builder.
    buildkit_version: str | None = None


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

    def installs_dependencies(self, override: DependencyOverride = NO_OVERRIDE) -> bool:
        """True for a RUN step that installs dependencies (bench/dependencies.py's rule, as
        the variant's manifest entry corrects it)."""
        return installs_dependencies(self.instruction, override)


def counted_steps(steps: Sequence[BuildStep]) -> tuple[BuildStep, ...]:
    """The steps a rebuild count is out of: FROM lines and the ARGs before the first FROM
    are left out, since they do no work in a rebuild (the one rule for report, gate and
    progress; older results recorded them as not cached)."""
    counted = []
    seen_from = False
    for step in steps:
        is_from = step.instruction.upper().startswith("FROM ")
        seen_from = seen_from or is_from
        if seen_from and not is_from:
            counted.append(step)
    return tuple(counted)


def rerun_steps(steps: Sequence[BuildStep]) -> tuple[BuildStep, ...]:
    """Counted steps that were not cache hits: what a rebuild ran again."""
    return tuple(step for step in counted_steps(steps) if not step.cached)


@dataclass(frozen=True)
class BuildOutcome:
    """What one build call produced: an image, or an error with the tail of its log."""

    ok: bool
    duration_seconds: float
    steps: tuple[BuildStep, ...] = ()
    image_id: str | None = None
    error: str | None = None
    log_tail: tuple[str, ...] = ()
    # Images the build committed that neither its tag nor its labels reach (the classic
    # builder's earlier stages, and where a failed build stopped): the run's to delete.
    unreachable_images: tuple[str, ...] = ()

    @property
    def rerun_steps(self) -> tuple[BuildStep, ...]:
        """Steps that ran again instead of hitting the cache (see `rerun_steps`)."""
        return rerun_steps(self.steps)


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
class StoredImage:
    """Where an engine keeps an image, as the engine's own file system names it.

    driver_data is the graph driver's data (overlay2: UpperDir, LowerDir), empty on the
    containerd store; root_dir is the engine's data root (DockerRootDir).
    """

    image_id: str
    diff_ids: tuple[str, ...]
    driver: str
    driver_data: tuple[tuple[str, str], ...]
    root_dir: str
    image_store: ImageStore


@dataclass(frozen=True)
class ImageFacts:
    """Sizes of a built image.

    size_bytes is the unpacked size (the sum of the layers' contents, comparable across
    engines); engine_size_bytes is the engine's own Size, which counts what engine_size_kind
    says.
    """

    image_id: str
    size_bytes: int
    layers: tuple[Layer, ...] = field(default=())
    labels: tuple[tuple[str, str], ...] = field(default=())
    engine_size_bytes: int | None = None
    engine_size_kind: EngineSizeKind = "unpacked"


# Results of a run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed measurement of one scenario. Failed samples are kept, with their reason."""

    variant: str
    scenario: Scenario
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
        """Steps that ran again instead of hitting the cache (see `rerun_steps`)."""
        return rerun_steps(self.steps)

    @property
    def counted_steps(self) -> tuple[BuildStep, ...]:
        """The steps `rerun_steps` is counted out of."""
        return counted_steps(self.steps)

    def reinstalled_dependencies(
        self, override: DependencyOverride = NO_OVERRIDE
    ) -> tuple[BuildStep, ...]:
        """Re-run steps that install dependencies: a code edit busted the dependency cache.
        Callers with a VariantResult use its `reinstalled_dependencies`, which applies the
        manifest's override the run recorded."""
        return tuple(step for step in self.rerun_steps if step.installs_dependencies(override))


@dataclass(frozen=True)
class ContextStats:
    """The build context the engine received, and what `.dockerignore` kept out."""

    sent_bytes: int
    sent_files: int
    ignored_bytes: int
    ignored_files: int


# How the smoke test reached the app (bench/run/reach.py): from inside the container's network
# namespace, or through a port published on the host's loopback.
SmokeStrategy = Literal["netns", "published-port"]


@dataclass(frozen=True)
class SmokeResult:
    """Did the image run as its smoke check says (HTTP answers, a command, staying up)."""

    ok: bool
    reason: str | None = None
    ready_seconds: float | None = None
    memory_bytes: int | None = None
    health: str | None = None
    prediction: str | None = None
    log_tail: tuple[str, ...] = ()
    # What the app listened on when last looked at, like "0.0.0.0:8000" or "[::]:8000";
    # empty when it was not seen (published-port) or nothing listened.
    listening: tuple[str, ...] = ()
    reached_by: SmokeStrategy | None = None
    # What was checked, like "http GET :8000/health -> 200" or "command exits 0".
    checked: str = ""


@dataclass(frozen=True)
class ImageConfig:
    """What a built image runs by default (its config), as the smoke test derives a check."""

    exposed_tcp_ports: tuple[int, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # NAME=value, as the image config lists them
    working_dir: str = ""


# Layer analysis (bench/layers/analysis.py) --------------------------------------------------

# Kinds of size group, in the order reports list them.
GROUP_KINDS = (
    "base",
    "runtime",
    "package",
    "pip-cache",
    "apt",
    "bytecode",
    "tests-docs",
    "app",
    "other",
)
FINDING_KINDS = ("pip-cache", "apt-lists", "apt-cache", "deleted-later", "overwritten-later")


def _check_sizes(record: object, *names: str) -> None:
    for name in names:
        value = getattr(record, name)
        if value is not None and value < 0:
            raise ValueError(f"negative {name}: {value}")


@dataclass(frozen=True)
class LayerAnalysis:
    """One layer of a saved image: its instruction, bytes and what it did to the file tree.

    size_bytes sums the sizes in the layer's tar headers (what dive calls the layer size);
    files count everything but directories; removed counts lower-layer files it hides.
    """

    index: int
    instruction: str
    size_bytes: int
    compressed_bytes: int | None
    files_added: int
    files_changed: int
    files_removed: int
    in_base: bool

    def __post_init__(self) -> None:
        _check_sizes(self, "index", "size_bytes", "compressed_bytes")
        _check_sizes(self, "files_added", "files_changed", "files_removed")


@dataclass(frozen=True)
class WastedPath:
    """A path dive counts as inefficient: present in two or more layers."""

    path: str
    wasted_bytes: int
    layer_count: int

    def __post_init__(self) -> None:
        _check_sizes(self, "wasted_bytes")
        if self.layer_count < 2:
            raise ValueError(f"a wasted path is in two or more layers, not {self.layer_count}")


@dataclass(frozen=True)
class SizeGroup:
    """Bytes of every layer, grouped by what people recognise (a package, a cache, the app)."""

    kind: str
    name: str
    size_bytes: int
    files: int

    def __post_init__(self) -> None:
        if self.kind not in GROUP_KINDS:
            raise ValueError(f"unknown size group kind {self.kind!r}")
        _check_sizes(self, "size_bytes", "files")


@dataclass(frozen=True)
class Finding:
    """Something that makes the image bigger than it needs to be, with its evidence.

    layer_index is where the bytes are; other_layer_index is the later layer that deleted
    or overwrote them (for the *-later kinds); paths are the largest examples.
    """

    kind: str
    layer_index: int
    size_bytes: int
    files: int
    paths: tuple[str, ...]
    other_layer_index: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FINDING_KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.size_bytes <= 0:
            raise ValueError("a finding needs bytes as evidence")
        _check_sizes(self, "layer_index", "files", "other_layer_index")


@dataclass(frozen=True)
class ImageAnalysis:
    """What every layer of an image holds, read in one pass from `docker save` or from the
    engine's own layer directories (source); both give the same numbers.

    size_bytes is the sum of the layers' tar header sizes; the engine's Size also counts
    the length of every symlink's target, which tar headers give as 0 (symlink_bytes).
    efficiency and wasted_bytes are dive's (see bench/layers/efficiency.py).
    """

    size_bytes: int
    symlink_bytes: int
    compressed_bytes: int | None
    efficiency: float
    wasted_bytes: int
    base_layer_count: int
    app_dir: str
    layers: tuple[LayerAnalysis, ...]
    top_wasted: tuple[WastedPath, ...]
    groups: tuple[SizeGroup, ...]
    findings: tuple[Finding, ...]
    # Where the layers were read: the `docker save` stream, or the engine's own storage.
    source: AnalysisSource = "save"

    def __post_init__(self) -> None:
        if self.source not in ANALYSIS_SOURCES:
            raise ValueError(f"unknown analysis source {self.source!r}")
        _check_sizes(self, "size_bytes", "symlink_bytes", "compressed_bytes", "wasted_bytes")
        _check_sizes(self, "base_layer_count")
        if not self.efficiency <= 1.0:
            raise ValueError(f"efficiency above 100 %: {self.efficiency}")
        if sum(group.size_bytes for group in self.groups) != self.size_bytes:
            raise ValueError("size groups do not add up to the image size")


@dataclass(frozen=True)
class ImageResult:
    """Sizes of the image a variant's cold build produced.

    size_bytes is THE image size of every table and of the gate: unpacked, the sum of the
    layers' contents, as `docker images` shows it on a graph-driver engine; on the containerd
    store it is the layer analysis's exact sum (the history's layer sizes until then).
    engine_size_bytes is what the engine itself reports, of the kind engine_size_kind names.
    """

    size_bytes: int
    compressed_bytes: int | None
    layers: tuple[Layer, ...]
    base_image: str
    base_is_standin: bool
    # Schema 2: what every layer holds (None in schema-1 files, or when not analysed).
    analysis: ImageAnalysis | None = None
    # Schema 4: the engine's own Size and what it counts.
    engine_size_bytes: int | None = None
    engine_size_kind: EngineSizeKind = "unpacked"

    @property
    def layers_with_bytes(self) -> int:
        """Layers that add bytes: what "layers" means in reports, the gate and baselines."""
        return count_layers_with_bytes(self.layers)


def count_layers_with_bytes(layers: Sequence[Layer]) -> int:
    """Layers (of an image's history) that add bytes; metadata-only steps add none."""
    return sum(1 for layer in layers if layer.size_bytes > 0)


# Wheel check (bench/wheels/) -----------------------------------------------------------------

# Which wheels pip accepts on the image's libc: glibc takes manylinux, musl (Alpine) musllinux.
WheelPlatform = Literal["manylinux", "musllinux"]
# What pip would do for one requirement, for the target Python and platform: install a
# compatible wheel; build the sdist (a compiler in the image, minutes of build); find the
# version's files but none it can install here (no compatible wheel, no sdist); or find no
# such version (or project) on the index at all.
WheelVerdict = Literal["wheel", "sdist", "incompatible", "absent"]
WHEEL_VERDICTS: tuple[WheelVerdict, ...] = get_args(WheelVerdict)
# How the version was chosen: pinned with == in the file, or the newest the index offers
# that satisfies the requirement's specifier (unpinned or ranged), as pip would pick.
VersionChoice = Literal["pinned", "newest"]


@dataclass(frozen=True)
class PackageWheel:
    """One requirement, the version pip would take, and whether a wheel exists for it."""

    name: str  # normalised (PEP 503): scikit-learn
    version: str | None  # None: nothing on the index satisfies the requirement
    chosen: VersionChoice
    verdict: WheelVerdict
    wheel_file: str | None = None  # the wheel pip would pick, when there is one

    def __post_init__(self) -> None:
        if self.verdict not in WHEEL_VERDICTS:
            raise ValueError(f"unknown wheel verdict {self.verdict!r}")
        if (self.verdict == "wheel") != (self.wheel_file is not None):
            raise ValueError("a wheel file goes with the verdict wheel, and only with it")


@dataclass(frozen=True)
class WheelCheck:
    """Whether each requirement of a variant has a wheel for its real base's platform.

    The platform comes from the final stage's FROM as written (python:3.11-alpine: CPython
    3.11 on musl), not from the image the lab built: a stand-in alpine is glibc. Not done
    (skipped_reason set, nothing else known) when the base names no Python version, the
    requirements cannot be read, or the index does not answer.
    """

    index_url: str
    base_image: str  # the final stage's base as written, build arguments substituted
    python_version: str | None = None  # "3.11"
    platform: WheelPlatform | None = None
    platform_tag: str | None = None  # the newest platform tag accepted: musllinux_1_2_x86_64
    packages: tuple[PackageWheel, ...] = ()
    # Requirement lines pip takes from somewhere else (a URL, a path, -e), and why.
    unchecked: tuple[tuple[str, str], ...] = ()
    skipped_reason: str | None = None

    @property
    def done(self) -> bool:
        """True when the index was asked about every requirement."""
        return self.skipped_reason is None

    @property
    def without_wheel(self) -> tuple[PackageWheel, ...]:
        """The packages pip would not install from a wheel here."""
        return tuple(p for p in self.packages if p.verdict != "wheel")


@dataclass(frozen=True)
class VariantResult:
    """Everything measured for one variant; `status` is ok, failed or skipped."""

    name: str
    description: str
    dockerfile: str
    status: Status
    reason: str | None = None
    pull: PullOutcome | None = None
    samples: tuple[Sample, ...] = ()
    image: ImageResult | None = None
    context: ContextStats | None = None
    smoke: SmokeResult | None = None
    # The manifest's correction of the dependency-install rule for this variant, recorded
    # so that reports and the gate, reading results alone, apply the rule the run used.
    dependency_override: DependencyOverride = NO_OVERRIDE
    # Schema 8: does each requirement have a wheel for the real base's platform (None: the
    # check was off, or the results predate it).
    wheel_check: WheelCheck | None = None

    def __post_init__(self) -> None:
        if self.status not in get_args(Status):
            raise ValueError(f"unknown status {self.status!r}")
        if self.status != "ok" and not self.reason:
            raise ValueError("a failed or skipped variant needs a reason")

    def reinstalled_dependencies(self, sample: Sample) -> tuple[BuildStep, ...]:
        """The sample's re-run steps that install dependencies, by this variant's rule."""
        return sample.reinstalled_dependencies(self.dependency_override)


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
    # Wall seconds of the harness's own untimed work, per phase (bench/run/phases.py).
    harness_seconds: tuple[tuple[str, float], ...] = ()
