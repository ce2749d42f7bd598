"""variants.toml: which Dockerfiles to measure, loaded into frozen dataclasses."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.units import parse_size_bytes

SCHEMA_VERSION = 1
DEFAULT_MANIFEST = Path(__file__).resolve().parent.parent / "variants" / "variants.toml"

_REQUIRED = ("name", "dockerfile", "context", "description", "edit_file", "size_budget")
_OPTIONAL = (
    "deps_rerun_on_edit",
    "requirements",
    "max_layers",
    "min_efficiency",
    "max_wasted_bytes",
    "max_wasted_share",
)


@dataclass(frozen=True)
class LayerRules:
    """Thresholds like dive's --ci rules; None means the rule is off."""

    max_layers: int | None = None
    min_efficiency: float | None = None
    max_wasted_bytes: int | None = None
    max_wasted_share: float | None = None


@dataclass(frozen=True)
class Variant:
    """One Dockerfile to measure."""

    name: str
    dockerfile: Path
    context: Path
    description: str
    edit_file: str
    size_budget_bytes: int
    deps_rerun_on_edit: bool = False
    requirements: Path | None = None
    rules: LayerRules = LayerRules()


@dataclass(frozen=True)
class Manifest:
    path: Path
    variants: tuple[Variant, ...]

    def select(self, names: list[str] | None) -> tuple[Variant, ...]:
        if not names:
            return self.variants
        known = {v.name: v for v in self.variants}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise BenchError(
                f"unknown variant {', '.join(unknown)} in {self.path}; known: {', '.join(known)}"
            )
        return tuple(known[n] for n in names)

    @property
    def requirement_files(self) -> tuple[Path, ...]:
        found = dict.fromkeys(v.requirements for v in self.variants if v.requirements)
        return tuple(p for p in found if p is not None)


def load(path: Path = DEFAULT_MANIFEST) -> Manifest:
    """Load and validate; every problem is one BenchError naming file, variant and field."""
    try:
        text = path.read_text()
    except FileNotFoundError as error:
        raise BenchError(f"{path}: manifest not found") from error
    except OSError as error:
        raise BenchError(f"{path}: cannot read the manifest: {error.strerror}") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BenchError(f"{path}: TOML syntax error: {error}") from error
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise BenchError(f"{path}: schema {schema!r} is not supported (expected {SCHEMA_VERSION})")
    unknown_top = set(data) - {"schema", "variant"}
    if unknown_top:
        raise BenchError(f"{path}: unknown top-level key {sorted(unknown_top)[0]!r}")
    entries = data.get("variant")
    if not isinstance(entries, list) or not entries:
        raise BenchError(f"{path}: no [[variant]] entries")
    variants: list[Variant] = []
    for position, entry in enumerate(entries, start=1):
        variant = _variant(path, position, entry)
        if any(v.name == variant.name for v in variants):
            raise BenchError(f"{path}: variant {variant.name!r}: duplicate name")
        variants.append(variant)
    return Manifest(path=path.resolve(), variants=tuple(variants))


def _variant(path: Path, position: int, entry: dict[str, Any]) -> Variant:
    label = f"variant {entry.get('name', f'#{position}')!r}"

    def fail(field: str, problem: str) -> BenchError:
        return BenchError(f"{path}: {label}: field {field!r}: {problem}")

    for field in _REQUIRED:
        if field not in entry:
            raise fail(field, "missing")
    for field in entry:
        if field not in _REQUIRED and field not in _OPTIONAL:
            raise fail(field, f"unknown field (known: {', '.join(_REQUIRED + _OPTIONAL)})")
    for field in ("name", "dockerfile", "context", "description", "edit_file"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            raise fail(field, "expected a non-empty string")

    base = path.resolve().parent
    dockerfile = base / entry["dockerfile"]
    if not dockerfile.is_file():
        raise fail("dockerfile", f"{dockerfile} does not exist")
    context = base / entry["context"]
    if not context.is_dir():
        raise fail("context", f"{context} is not a directory")
    if not (context / entry["edit_file"]).is_file():
        raise fail("edit_file", f"{context / entry['edit_file']} does not exist")
    try:
        budget = parse_size_bytes(entry["size_budget"])
    except ValueError as error:
        raise fail("size_budget", str(error)) from error
    deps_rerun = entry.get("deps_rerun_on_edit", False)
    if not isinstance(deps_rerun, bool):
        raise fail("deps_rerun_on_edit", "expected true or false")
    requirements: Path | None = context / "requirements.txt"
    if "requirements" in entry:
        requirements = context / str(entry["requirements"])
        if not requirements.is_file():
            raise fail("requirements", f"{requirements} does not exist")
    elif requirements is not None and not requirements.is_file():
        requirements = None
    return Variant(
        name=entry["name"],
        dockerfile=dockerfile,
        context=context,
        description=entry["description"],
        edit_file=entry["edit_file"],
        size_budget_bytes=budget,
        deps_rerun_on_edit=deps_rerun,
        requirements=requirements,
        rules=_rules(entry, fail),
    )


def _rules(entry: dict[str, Any], fail: Any) -> LayerRules:
    def number(field: str, low: float, high: float | None) -> float | None:
        if field not in entry:
            return None
        value = entry[field]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(field, "expected a number")
        if high is None and value < low:
            raise fail(field, f"expected a value of at least {low}")
        if high is not None and not low <= value <= high:
            raise fail(field, f"expected a value between {low} and {high}")
        return float(value)

    wasted = entry.get("max_wasted_bytes")
    try:
        wasted_bytes = None if wasted is None else parse_size_bytes(wasted)
    except ValueError as error:
        raise fail("max_wasted_bytes", str(error)) from error
    layers = number("max_layers", 1, None)
    return LayerRules(
        max_layers=None if layers is None else int(layers),
        min_efficiency=number("min_efficiency", 0, 1),
        max_wasted_bytes=wasted_bytes,
        max_wasted_share=number("max_wasted_share", 0, 1),
    )
