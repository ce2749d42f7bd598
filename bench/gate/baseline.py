"""The size baseline: per variant, sizes and layers of a known-good run, committed to the repo.

One baseline per setting: `reports/baseline.json` for the lab (stand-in bases) and
`reports/baseline-online.json` for Docker Hub bases, each with `-containerd` before `.json`
for an engine with the containerd image store (its layers and sizes differ); a results file
picks the one that matches where its bases came from and which store built it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import storage
from bench.errors import BenchError
from bench.models import ImageStore, RunResult

# 1: first format. 2: `image_store` (files without it come from graph-driver engines).
BASELINE_SCHEMA_VERSION = 2
LAB_BASELINE = Path("reports/baseline.json")
ONLINE_BASELINE = Path("reports/baseline-online.json")


@dataclass(frozen=True)
class BaselineLayer:
    instruction: str
    size_bytes: int


@dataclass(frozen=True)
class BaselineVariant:
    name: str
    size_bytes: int
    compressed_bytes: int | None
    layer_count: int
    layers: tuple[BaselineLayer, ...]


@dataclass(frozen=True)
class Baseline:
    run_id: str
    git_sha: str
    lab_mode: str
    bases_are_standins: bool
    engine_version: str
    created_utc: str
    variants: tuple[BaselineVariant, ...]
    image_store: ImageStore = "graphdriver"

    def variant(self, name: str) -> BaselineVariant | None:
        return next((v for v in self.variants if v.name == name), None)


def default_path(run: RunResult) -> Path:
    """The baseline for the run's setting: stand-in or real bases, and the image store."""
    path = LAB_BASELINE if run.provenance.bases_are_standins else ONLINE_BASELINE
    if run.provenance.engine.image_store == "containerd":
        return path.with_name(f"{path.stem}-containerd{path.suffix}")
    return path


def from_run(run: RunResult) -> Baseline:
    """The baseline a run would give: its variants that built and ran."""
    variants = []
    for result in run.variants:
        if result.status != "ok" or result.image is None:
            continue
        layers = tuple(
            BaselineLayer(layer.instruction, layer.size_bytes) for layer in result.image.layers
        )
        variants.append(
            BaselineVariant(
                name=result.name,
                size_bytes=result.image.size_bytes,
                compressed_bytes=result.image.compressed_bytes,
                layer_count=result.image.layers_with_bytes,
                layers=layers,
            )
        )
    if not variants:
        raise BenchError(f"run {run.run_id} has no variant that built and ran: no baseline")
    return Baseline(
        run_id=run.run_id,
        git_sha=run.provenance.git_sha,
        lab_mode=run.provenance.lab_mode,
        bases_are_standins=run.provenance.bases_are_standins,
        engine_version=run.provenance.engine.server_version,
        created_utc=run.finished_utc or run.provenance.started_utc,
        variants=tuple(variants),
        image_store=run.provenance.engine.image_store,
    )


def save(baseline: Baseline, path: Path) -> None:
    data = {"schema_version": BASELINE_SCHEMA_VERSION, **asdict(baseline)}
    storage.write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def load(path: Path) -> Baseline:
    """Read a baseline; a missing, corrupt or newer file is one BenchError naming it."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise BenchError(
            f"{path}: no baseline; create one with `python -m bench baseline update RESULTS`"
        ) from error
    except (OSError, ValueError) as error:
        raise BenchError(f"{path}: not a readable baseline ({error})") from error
    try:
        version = data["schema_version"]
        if not isinstance(version, int) or version > BASELINE_SCHEMA_VERSION:
            raise BenchError(
                f"{path}: written by a newer dockerfile-bench (baseline schema "
                f"{version}, this one reads {BASELINE_SCHEMA_VERSION})"
            )
        variants = tuple(
            BaselineVariant(
                name=str(v["name"]),
                size_bytes=_int(v["size_bytes"]),
                compressed_bytes=None
                if v["compressed_bytes"] is None
                else _int(v["compressed_bytes"]),
                layer_count=_int(v["layer_count"]),
                layers=tuple(
                    BaselineLayer(str(layer["instruction"]), _int(layer["size_bytes"]))
                    for layer in v["layers"]
                ),
            )
            for v in data["variants"]
        )
        return Baseline(
            run_id=str(data["run_id"]),
            git_sha=str(data["git_sha"]),
            lab_mode=str(data["lab_mode"]),
            bases_are_standins=bool(data["bases_are_standins"]),
            engine_version=str(data["engine_version"]),
            created_utc=str(data["created_utc"]),
            variants=variants,
            image_store=_image_store(data.get("image_store", "graphdriver")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BenchError(f"{path}: not a valid baseline (bad or missing {error})") from error


def _image_store(value: object) -> ImageStore:
    if value == "graphdriver":
        return "graphdriver"
    if value == "containerd":
        return "containerd"
    raise ValueError(f"image_store {value!r}")


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"size {value!r}")
    return value
