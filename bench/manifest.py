"""variants.toml: which Dockerfiles to measure, loaded into frozen dataclasses."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.dependencies import NO_OVERRIDE, DependencyOverride
from bench.errors import BenchError
from bench.units import parse_size_bytes

SCHEMA_VERSION = 1
DEFAULT_MANIFEST = Path(__file__).resolve().parent.parent / "variants" / "variants.toml"

_REQUIRED = ("name", "dockerfile", "context", "description", "edit_file", "size_budget")
_OPTIONAL = (
    "deps_rerun_on_edit",
    "dependency_steps",
    "requirements",
    "max_layers",
    "min_efficiency",
    "max_wasted_bytes",
    "max_wasted_share",
    "smoke",
)

# What a smoke test checks (README, "Your own Dockerfiles"): answers over HTTP, one run of the
# image's entrypoint, a container that keeps running, or nothing (with a reason).
SmokeKind = Literal["http", "command", "stays-up", "none"]
SMOKE_KINDS: tuple[SmokeKind, ...] = ("http", "command", "stays-up", "none")
# Which answers an HTTP check accepts: any 2xx, any HTTP answer at all, or one status.
StatusRule = Literal["2xx", "any"] | int
_HTTP_FIELDS = ("port", "path", "method", "body", "status", "contains")
_SMOKE_FIELDS = {
    "http": {"kind", "env", "env_file", "checks", *_HTTP_FIELDS},
    "command": {"kind", "env", "env_file", "args", "exit_code", "output"},
    "stays-up": {"kind", "env", "env_file", "seconds"},
    "none": {"kind", "env", "env_file", "reason"},
    None: {"kind", "env", "env_file"},
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class LayerRules:
    """Thresholds like dive's --ci rules; None means the rule is off."""

    max_layers: int | None = None
    min_efficiency: float | None = None
    max_wasted_bytes: int | None = None
    max_wasted_share: float | None = None


@dataclass(frozen=True)
class HttpCheck:
    """One request to the app and the answer it must give."""

    port: int
    path: str = "/"
    method: str = ""  # "": GET, or POST when there is a body
    body: str = ""  # sent as JSON when not empty
    status: StatusRule = "2xx"
    contains: str | None = None  # text the answer's body must contain

    @property
    def verb(self) -> str:
        """The HTTP method sent."""
        return self.method or ("POST" if self.body else "GET")

    def describe(self) -> str:
        """Like "GET :8000/health -> 200"."""
        expected = {"2xx": "2xx", "any": "any answer"}.get(str(self.status), str(self.status))
        text = f"{self.verb} :{self.port}{self.path} -> {expected}"
        return text + (f" containing {self.contains!r}" if self.contains else "")


@dataclass(frozen=True)
class SmokeSpec:
    """A variant's `[variant.smoke]`; kind None: derived from the built image's config."""

    kind: SmokeKind | None = None
    checks: tuple[HttpCheck, ...] = ()  # http
    args: tuple[str, ...] | None = None  # command: the entrypoint's arguments (None: its CMD)
    exit_code: int = 0  # command
    output: str | None = None  # command: text its output must contain
    seconds: float = 5.0  # stays-up
    reason: str = ""  # none: why the image is not tested
    # env_file's lines first, then env: the table in the manifest wins.
    env: tuple[tuple[str, str], ...] = ()


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
    dependency_override: DependencyOverride = NO_OVERRIDE
    requirements: Path | None = None
    rules: LayerRules = LayerRules()
    smoke: SmokeSpec = SmokeSpec()


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
        dependency_override=dependency_override(entry.get("dependency_steps", {}), fail),
        requirements=requirements,
        rules=_rules(entry, fail),
        smoke=smoke_spec(entry.get("smoke", {}), base, fail),
    )


def dependency_override(
    table: object, fail: Callable[[str, str], BenchError]
) -> DependencyOverride:
    """A `[variant.dependency_steps]` table: `installs` and `not_installs`, lists of text a
    RUN instruction contains."""
    if not isinstance(table, dict):
        raise fail("dependency_steps", "expected a table ([variant.dependency_steps])")
    for field in table:
        if field not in ("installs", "not_installs"):
            raise fail(f"dependency_steps.{field}", "unknown field (known: installs, not_installs)")
    lists: dict[str, tuple[str, ...]] = {}
    for field in ("installs", "not_installs"):
        texts = table.get(field, [])
        if not isinstance(texts, list) or not all(
            isinstance(text, str) and text.strip() for text in texts
        ):
            raise fail(
                f"dependency_steps.{field}",
                "expected a list of non-empty strings (text a RUN instruction contains)",
            )
        lists[field] = tuple(text.strip() for text in texts)
    return DependencyOverride(installs=lists["installs"], not_installs=lists["not_installs"])


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


def smoke_spec(table: object, base: Path, fail: Callable[[str, str], BenchError]) -> SmokeSpec:
    """A `[variant.smoke]` table, checked; `fail(field, problem)` makes the error."""
    if not isinstance(table, dict):
        raise fail("smoke", "expected a table ([variant.smoke])")
    kind = table.get("kind")
    if kind is not None and kind not in SMOKE_KINDS:
        raise fail("smoke.kind", f"expected one of {', '.join(SMOKE_KINDS)}, got {kind!r}")
    allowed = _SMOKE_FIELDS[kind]
    for field in table:
        if field not in allowed:
            raise fail(
                f"smoke.{field}",
                f"unknown field for kind {kind or '(default)'!r} "
                f"(known: {', '.join(sorted(allowed))})",
            )
    env = _env_file(table, base, fail) + _env_table(table, fail)
    if kind == "http":
        return SmokeSpec(kind="http", checks=_http_checks(table, fail), env=env)
    if kind == "command":
        args = table.get("args")
        if args is not None and (
            not isinstance(args, list) or not all(isinstance(a, str) for a in args)
        ):
            raise fail("smoke.args", "expected a list of strings")
        exit_code = table.get("exit_code", 0)
        if isinstance(exit_code, bool) or not isinstance(exit_code, int) or exit_code < 0:
            raise fail("smoke.exit_code", "expected a whole number >= 0")
        return SmokeSpec(
            kind="command",
            args=None if args is None else tuple(args),
            exit_code=exit_code,
            output=_text(table, "output", fail),
            env=env,
        )
    if kind == "stays-up":
        seconds = table.get("seconds", 5.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise fail("smoke.seconds", "expected a number of seconds > 0")
        return SmokeSpec(kind="stays-up", seconds=float(seconds), env=env)
    if kind == "none":
        reason = table.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise fail("smoke.reason", "kind 'none' needs a reason (why the image is not run)")
        return SmokeSpec(kind="none", reason=reason.strip(), env=env)
    return SmokeSpec(env=env)


def _text(table: dict[str, Any], field: str, fail: Callable[[str, str], BenchError]) -> str | None:
    value = table.get(field)
    if value is not None and (not isinstance(value, str) or not value):
        raise fail(f"smoke.{field}", "expected a non-empty string")
    return value


def _http_checks(
    table: dict[str, Any], fail: Callable[[str, str], BenchError]
) -> tuple[HttpCheck, ...]:
    """One check from the table's own fields, or a list in `checks` (port inherited)."""
    listed = table.get("checks")
    if listed is None:
        if "port" not in table:
            raise fail("smoke.port", "missing (the container port the app listens on)")
        return (_http_check(table, None, "smoke", fail),)
    if not isinstance(listed, list) or not listed:
        raise fail("smoke.checks", "expected a list of tables, like [{ path = '/health' }]")
    for field in _HTTP_FIELDS:
        if field != "port" and field in table:
            raise fail(f"smoke.{field}", "set it in each entry of `checks`, not beside it")
    port = _port(table, "smoke", fail) if "port" in table else None
    checks: list[HttpCheck] = []
    for position, entry in enumerate(listed, start=1):
        where = f"smoke.checks[{position}]"
        if not isinstance(entry, dict):
            raise fail(where, "expected a table, like { path = '/health', status = 200 }")
        for field in entry:
            if field not in _HTTP_FIELDS:
                raise fail(f"{where}.{field}", f"unknown field (known: {', '.join(_HTTP_FIELDS)})")
        if port is None and "port" not in entry:
            raise fail(f"{where}.port", "missing (here or as smoke.port)")
        checks.append(_http_check(entry, port, where, fail))
    return tuple(checks)


def _http_check(
    entry: dict[str, Any], port: int | None, where: str, fail: Callable[[str, str], BenchError]
) -> HttpCheck:
    path = entry.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise fail(f"{where}.path", "expected a path starting with '/'")
    body = entry.get("body", "")
    if not isinstance(body, str):
        raise fail(f"{where}.body", "expected a string (sent as JSON)")
    method = entry.get("method", "")
    if not isinstance(method, str) or (method and method.upper() not in _METHODS):
        raise fail(f"{where}.method", f"expected one of {', '.join(_METHODS)}")
    status = entry.get("status", "2xx")
    if not (
        status in ("2xx", "any")
        or (isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599)
    ):
        raise fail(f"{where}.status", "expected an HTTP status (100-599), '2xx' or 'any'")
    contains = entry.get("contains")
    if contains is not None and (not isinstance(contains, str) or not contains):
        raise fail(f"{where}.contains", "expected a non-empty string")
    return HttpCheck(
        port=_port(entry, where, fail) if "port" in entry else (port or 0),
        path=path,
        method=method.upper(),
        body=body,
        status=status,
        contains=contains,
    )


def _port(entry: dict[str, Any], where: str, fail: Callable[[str, str], BenchError]) -> int:
    port = entry.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise fail(f"{where}.port", "expected a port number (1-65535)")
    return port


def _env_table(
    table: dict[str, Any], fail: Callable[[str, str], BenchError]
) -> tuple[tuple[str, str], ...]:
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise fail("smoke.env", "expected a table of NAME = 'value'")
    pairs: list[tuple[str, str]] = []
    for name, value in env.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise fail(f"smoke.env.{name}", "expected a string or a number")
        pairs.append((name, str(value)))
    return tuple(pairs)


def _env_file(
    table: dict[str, Any], base: Path, fail: Callable[[str, str], BenchError]
) -> tuple[tuple[str, str], ...]:
    """NAME=VALUE lines, as `docker run --env-file` reads them (no quotes removed)."""
    if "env_file" not in table:
        return ()
    name = table["env_file"]
    if not isinstance(name, str) or not name:
        raise fail("smoke.env_file", "expected a path relative to the manifest")
    path = base / name
    try:
        text = path.read_text()
    except OSError as error:
        raise fail("smoke.env_file", f"cannot read {path}: {error.strerror}") from error
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise fail("smoke.env_file", f"{path} line {number}: expected NAME=VALUE")
        pairs.append((key.strip(), value))
    return tuple(pairs)
