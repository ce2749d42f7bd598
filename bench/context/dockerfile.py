"""Just enough Dockerfile reading to know which base images a build will need."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?\s*$", re.IGNORECASE)
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        lines.append(current + raw)
        current = ""
    if current:
        lines.append(current)
    return lines


def base_images(dockerfile: Path, build_args: Mapping[str, str] | None = None) -> list[str]:
    """External images named by FROM lines (not `scratch`, not earlier stages), in order."""
    args = dict(build_args or {})
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    bases: list[str] = []
    seen_from = False
    for line in _logical_lines(dockerfile.read_text()):
        arg = _ARG.match(line)
        if arg and not seen_from:  # only global ARGs (before the first FROM) apply to FROM
            defaults[arg.group(1)] = arg.group(2) or ""
            continue
        match = _FROM.match(line)
        if not match:
            continue
        seen_from = True
        image = _substitute(match.group(1), {**defaults, **args})
        if match.group(2):
            stages.add(match.group(2).lower())
        if image.lower() == "scratch" or image.lower() in stages:
            continue
        image = normalise_reference(image)
        if image not in bases:
            bases.append(image)
    return bases


def final_base(dockerfile: Path, build_args: Mapping[str, str] | None = None) -> str | None:
    """The external image the final stage starts from (through `FROM stage` lines), as
    written with global ARGs substituted; None for `scratch` or a Dockerfile with no FROM."""
    args = dict(build_args or {})
    defaults: dict[str, str] = {}
    stages: dict[str, str] = {}  # alias -> the image its stage starts from
    last: str | None = None
    for line in _logical_lines(dockerfile.read_text()):
        arg = _ARG.match(line)
        if arg and last is None:
            defaults[arg.group(1)] = arg.group(2) or ""
            continue
        match = _FROM.match(line)
        if not match:
            continue
        image = _substitute(match.group(1), {**defaults, **args})
        # An earlier stage's name stands for the image that stage starts from.
        last = stages.get(image.lower(), image)
        if match.group(2):
            stages[match.group(2).lower()] = last
    if last is None or last.lower() == "scratch":
        return None
    return normalise_reference(last)


def _substitute(token: str, values: Mapping[str, str]) -> str:
    def value(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(3)
        return values.get(name) or (found.group(2) or "")

    return _VARIABLE.sub(value, token)


def normalise_reference(image: str) -> str:
    """`name` as `name:latest`; a tagged or digest-pinned reference as it is."""
    if ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
        return image + ":latest"
    return image


def rewrite_bases(
    text: str, mapping: Mapping[str, str], build_args: Mapping[str, str] | None = None
) -> str:
    """`text` with each FROM whose image (global ARGs substituted, as `base_images` reads it)
    is a key of `mapping` naming its value instead; every other byte kept."""
    args = dict(build_args or {})
    defaults: dict[str, str] = {}
    seen_from = False
    lines = []
    for line in text.splitlines(keepends=True):
        arg = _ARG.match(line)
        if arg and not seen_from:
            defaults[arg.group(1)] = arg.group(2) or ""
        elif match := _FROM.match(line):
            seen_from = True
            image = normalise_reference(_substitute(match.group(1), {**defaults, **args}))
            if image in mapping:
                line = line[: match.start(1)] + mapping[image] + line[match.end(1) :]
        lines.append(line)
    return "".join(lines)


def instructions(text: str) -> list[tuple[str, str]]:
    """Each instruction as (KEYWORD in upper case, the rest of its logical line)."""
    found: list[tuple[str, str]] = []
    for line in _logical_lines(text):
        keyword, _, rest = line.strip().partition(" ")
        if keyword and not keyword.startswith("#"):
            found.append((keyword.upper(), rest.strip()))
    return found
