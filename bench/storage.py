"""Raw results as versioned JSON: the data contract the reports are regenerated from."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.models import RunResult

# Format history. Bump SCHEMA_VERSION on any change to the JSON shape (a field added,
# renamed, removed or retyped in bench/models.py) and teach `_upgrade` to read the old one.
#   1 (2026-11): first format. Top level: schema_version, run_id, provenance, variants,
#     complete, finished_utc. Every dataclass is an object with all its fields; tuples
#     are lists; tuples of pairs (bases, options, labels) are lists of 2-item lists.
#   2 (2026-11): an image has `analysis` (layers, dive's efficiency and wasted bytes, size
#     groups, findings; null when not analysed). Schema-1 files read with analysis null.
#   3 (2026-11): top-level `harness_seconds`, pairs of phase and wall seconds of the run's
#     untimed work (bench/run/phases.py). Older files read with an empty list.
#   4 (2026-11): an image has `engine_size_bytes` and `engine_size_kind` (the engine's own
#     Size and whether it counts unpacked layers or stored content: the containerd store),
#     and the engine has `image_store` (graphdriver or containerd). Older files come from
#     graph-driver engines: the engine's Size was the image's size_bytes, unpacked.
#     A smoke result has `listening` (the app's listening TCP addresses, like
#     "0.0.0.0:8000") and `reached_by` ("netns", "published-port" or null): the smoke test
#     asks from outside the container now. Older files read with an empty list and null.
#   5 (2026-11): a smoke result has `checked`, what the smoke test checked (the manifest's
#     [variant.smoke], or a check derived from the image: "http GET :8000/health -> 200").
#     Older files always asked /health and /predict on port 8000, so they read with that.
#   6 (2026-11): the engine has `buildkit_version`: which BuildKit client drove a BuildKit
#     run (buildx's version line for `docker buildx build --progress=rawjson`, the docker
#     CLI's for `docker build --progress=plain`), null for the classic builder. Older
#     files read with null: the client was not recorded (it was always the plain path).
#   7 (2026-11): a variant has `dependency_override` ({"installs": [...], "not_installs":
#     [...]}), the manifest's `[variant.dependency_steps]` correction of the dependency-install
#     rule, which the report and the gate apply. Older files read with both lists empty.
#   8 (2026-11): a variant has `wheel_check`: for its final base's Python and libc, whether
#     each requirement has a wheel on the index the build uses (index_url, base_image,
#     python_version, platform "manylinux" or "musllinux", platform_tag, packages with name,
#     version, chosen "pinned"/"newest", verdict "wheel"/"sdist"/"incompatible"/"absent" and
#     wheel_file, unchecked pairs of requirement and why, skipped_reason); null when the check
#     was off. Older files (6 and 7) read with null: no check was made.
#   9 (2026-11): an analysis has `source`, where its layers were read: "save" (the `docker
#     save` stream) or "storage" (the engine's own layer directories, same numbers). Older
#     files read with "save": it was the only way.
SCHEMA_VERSION = 9

# What every smoke test of a schema 1-4 file checked.
_OLD_SMOKE_CHECKED = "http GET :8000/health, POST :8000/predict -> the label"


class _Invalid(Exception):
    """A value in a results file does not match the format; carries where and why."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


# Writing -------------------------------------------------------------------------------------


def to_dict(run: RunResult) -> dict[str, Any]:
    """The JSON-ready form of a run, with the schema version first."""
    encoded = _encode(run)
    assert isinstance(encoded, dict)
    return {"schema_version": SCHEMA_VERSION, **encoded}


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    return value


def save(run: RunResult, path: Path) -> None:
    """Write the run to `path` atomically; on failure the previous file is left as it was."""
    write_text_atomic(path, json.dumps(to_dict(run), indent=2, ensure_ascii=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` via a synced temp file and a rename: never a partial file."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` via a synced temp file and a rename: never a partial file."""
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            # mkstemp makes the file 0600; results are meant to be shared and committed.
            os.fchmod(handle.fileno(), 0o644)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
        temp = None
        _sync_directory(path.parent)
    except OSError as error:
        raise BenchError(f"{path}: cannot write: {error.strerror or error}") from error
    finally:
        # Also on Ctrl-C mid-write: no stray temp files piling up next to the results.
        if temp is not None:
            with contextlib.suppress(OSError):
                Path(temp).unlink()


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself survive a power cut. Some file systems refuse to fsync a
    # directory: the new file is in place all the same, not worth failing a run for.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


# Reading -------------------------------------------------------------------------------------


def load(path: Path) -> RunResult:
    """Read a results file; any problem becomes one BenchError line naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(f"{path}: no such results file") from None
    except UnicodeDecodeError as error:
        raise BenchError(f"{path}: not a results file (not UTF-8 text: {error.reason})") from None
    except OSError as error:
        raise BenchError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BenchError(
            f"{path}: corrupt results file (invalid JSON at line {error.lineno} column "
            f"{error.colno}: {error.msg}); was the run killed while writing?"
        ) from None
    return from_dict(data, path)


def from_dict(data: object, source: Path) -> RunResult:
    """Rebuild a RunResult from its JSON form; `source` names the file in error messages."""
    if not isinstance(data, dict):
        raise BenchError(f"{source}: not a dockerfile-bench results file (not a JSON object)")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise BenchError(
            f"{source}: not a dockerfile-bench results file (no integer schema_version)"
        )
    if version > SCHEMA_VERSION:
        raise BenchError(
            f"{source}: written by a newer dockerfile-bench (schema {version}, "
            f"this one reads {SCHEMA_VERSION})"
        )
    if version < 1:
        raise BenchError(f"{source}: unknown schema_version {version}")
    fields = _upgrade(
        {key: value for key, value in data.items() if key != "schema_version"}, version
    )
    try:
        run = _decode(RunResult, fields, "")
    except _Invalid as error:
        raise BenchError(f"{source}: invalid results file: {error}") from None
    assert isinstance(run, RunResult)
    return run


def _upgrade(fields: dict[str, Any], version: int) -> dict[str, Any]:
    """An older file's fields in the current shape (the decoder then checks them strictly)."""
    if version < 9:
        for variant in fields.get("variants") or []:
            image = variant.get("image") if isinstance(variant, dict) else None
            analysis = image.get("analysis") if isinstance(image, dict) else None
            if isinstance(analysis, dict):
                analysis.setdefault("source", "save")
    if version < 8:
        for variant in fields.get("variants") or []:
            if isinstance(variant, dict):
                variant.setdefault("wheel_check", None)
    if version < 7:
        for variant in fields.get("variants") or []:
            if isinstance(variant, dict):
                variant.setdefault("dependency_override", {"installs": [], "not_installs": []})
    if version < 6:
        provenance = fields.get("provenance")
        engine = provenance.get("engine") if isinstance(provenance, dict) else None
        if isinstance(engine, dict):
            engine.setdefault("buildkit_version", None)
    if version < 5:
        for variant in fields.get("variants") or []:
            smoke = variant.get("smoke") if isinstance(variant, dict) else None
            if isinstance(smoke, dict):
                smoke.setdefault("checked", _OLD_SMOKE_CHECKED)
    if version < 4:
        provenance = fields.get("provenance")
        engine = provenance.get("engine") if isinstance(provenance, dict) else None
        if isinstance(engine, dict):
            engine.setdefault("image_store", "graphdriver")
        for variant in fields.get("variants") or []:
            image = variant.get("image") if isinstance(variant, dict) else None
            if isinstance(image, dict):
                image.setdefault("engine_size_bytes", image.get("size_bytes"))
                image.setdefault("engine_size_kind", "unpacked")
            smoke = variant.get("smoke") if isinstance(variant, dict) else None
            if isinstance(smoke, dict):
                smoke.setdefault("listening", [])
                smoke.setdefault("reached_by", None)
    if version < 3:
        fields.setdefault("harness_seconds", [])
    if version < 2:
        for variant in fields.get("variants") or []:
            image = variant.get("image") if isinstance(variant, dict) else None
            if isinstance(image, dict):
                image.setdefault("analysis", None)
    return fields


def _decode(hint: Any, value: object, where: str) -> object:
    """Check `value` against a type hint of the models and build the typed value."""
    origin = typing.get_origin(hint)
    # `Literal[...] | None` is a typing.Union, not a types.UnionType.
    if origin is types.UnionType or origin is typing.Union:
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        (inner,) = (option for option in options if option is not type(None))
        return _decode(inner, value, where)
    if origin is tuple:
        return _decode_tuple(typing.get_args(hint), value, where)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value in allowed:
            return value
        raise _Invalid(
            where, f"expected one of {', '.join(map(repr, allowed))}, got {_kind(value)}"
        )
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, value, where)
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _Invalid(where, f"expected a number, got {_kind(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Invalid(where, f"expected an integer, got {_kind(value)}")
    if hint in (str, bool):
        if isinstance(value, hint):
            return value
        raise _Invalid(where, f"expected {hint.__name__}, got {_kind(value)}")
    raise TypeError(f"storage cannot read fields of type {hint!r}")  # a models.py change


def _decode_tuple(args: tuple[Any, ...], value: object, where: str) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise _Invalid(where, f"expected a list, got {_kind(value)}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if len(value) != len(args):
        raise _Invalid(where, f"expected a list of {len(args)} items, got {len(value)}")
    return tuple(
        _decode(arg, item, f"{where}[{i}]")
        for i, (arg, item) in enumerate(zip(args, value, strict=True))
    )


def _decode_dataclass(cls: Any, value: object, where: str) -> object:
    if not isinstance(value, dict):
        raise _Invalid(where, f"expected an object, got {_kind(value)}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    # Every field is written, defaults included: a missing key means a damaged file.
    missing = [name for name in names if name not in value]
    if missing:
        raise _Invalid(where, f"missing {', '.join(missing)}")
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise _Invalid(where, f"unexpected {', '.join(map(str, unknown))}")
    prefix = f"{where}." if where else ""
    arguments = {name: _decode(hints[name], value[name], prefix + name) for name in names}
    try:
        return cls(**arguments)
    except ValueError as error:  # the records' own checks (unknown status, ...)
        raise _Invalid(where or "run", str(error)) from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"number {value}"
    return "a list" if isinstance(value, list) else "an object"


def latest_results(directory: Path) -> Path:
    """The newest results file in `directory` (run ids start with the UTC time, so by name)."""
    try:
        candidates = sorted(
            path
            for path in directory.glob("*.json")
            if path.is_file() and not path.name.startswith(".")
        )
    except OSError as error:
        raise BenchError(f"{directory}: cannot list results: {error.strerror or error}") from None
    if not candidates:
        raise BenchError(
            f"no results in {directory}: run `python -m bench run` first, or name a results file"
        )
    return candidates[-1]
