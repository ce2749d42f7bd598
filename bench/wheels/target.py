"""The Python and platform a base image gives pip, read from its name as the Dockerfile
writes it: `python:3.11-alpine` is CPython 3.11 on musl, `python:3.12-slim-bookworm` CPython
3.12 on glibc 2.36. A name that does not say its Python version gives no target."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from packaging.tags import Tag, compatible_tags, cpython_tags

from bench.models import WheelPlatform

# glibc of the Debian releases the official python images are built on. A tag without a
# release (python:3.11, python:3.11-slim) is taken as bookworm's 2.36, the older of the two
# releases those tags have meant in 2025-2026: a wheel that needs a newer glibc is then
# reported as missing rather than wrongly found. Every manylinux wheel of the sample app
# needs 2.28 at most, so the choice changes no verdict there.
GLIBC_BY_RELEASE = {"buster": 28, "bullseye": 31, "bookworm": 36, "trixie": 41}
DEFAULT_GLIBC_MINOR = GLIBC_BY_RELEASE["bookworm"]
# Every Alpine release since 3.13 (2020) ships musl 1.2.x: musllinux_1_2 and older tags.
MUSL_MINOR = 2
# The machine the check asks wheels for (the lab's and CI's engines are x86_64).
DEFAULT_MACHINE = "x86_64"
# manylinux's legacy names (PEP 600): the glibc each one stands for.
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}

_PYTHON_TAG = re.compile(r"^(\d+)\.(\d+)(\.\d+)?(?:(?:a|b|rc)\d+)?(?:-(.*))?$")
_PYTHON_IN_TAG = re.compile(r"(?:^|[^a-z])python(\d+)\.(\d+)(\.\d+)?(?![\d.])")


class NoTarget(Exception):
    """The base names no Python version (or no tag): the message says why."""


@dataclass(frozen=True)
class Target:
    """CPython `python_version` on glibc (manylinux) or musl (musllinux) for `machine`."""

    python_version: str  # "3.11", or "3.11.7" when the tag names the patch release
    platform: WheelPlatform
    libc_minor: int  # glibc 2.<minor>, musl 1.<minor>
    machine: str = DEFAULT_MACHINE

    @property
    def minor_version(self) -> str:
        """ "3.11"."""
        return ".".join(self.python_version.split(".")[:2])

    @property
    def full_version(self) -> str:
        """The interpreter's version for Requires-Python and markers: the tag's patch release,
        else the newest one (the official images follow it), spelled as patch 99 so that
        `>=3.11.4` holds for "3.11"."""
        return (
            self.python_version
            if self.python_version.count(".") >= 2
            else (f"{self.python_version}.99")
        )

    @property
    def platform_tags(self) -> list[str]:
        """The platform tags pip accepts there, most specific first."""
        if self.platform == "musllinux":
            tags = [
                f"musllinux_1_{minor}_{self.machine}" for minor in range(self.libc_minor, -1, -1)
            ]
        else:
            tags = []
            for minor in range(self.libc_minor, 4, -1):
                tags.append(f"manylinux_2_{minor}_{self.machine}")
                if minor in _LEGACY_MANYLINUX:
                    tags.append(f"{_LEGACY_MANYLINUX[minor]}_{self.machine}")
        # pip also takes a plain linux tag (never on PyPI, but on private indexes).
        return [*tags, f"linux_{self.machine}"]

    @cached_property
    def tags(self) -> dict[Tag, int]:
        """Every wheel tag pip accepts there, with its rank (0: what pip prefers most)."""
        major, minor = (int(part) for part in self.minor_version.split("."))
        interpreter = f"cp{major}{minor}"
        platforms = self.platform_tags
        ordered = [
            *cpython_tags((major, minor), [interpreter], platforms),
            *compatible_tags((major, minor), interpreter, platforms),
        ]
        return {tag: rank for rank, tag in reversed(list(enumerate(ordered)))}


def _split(reference: str) -> tuple[str, str]:
    """(repository, tag) of an image reference; NoTarget without a tag."""
    name, _, digest = reference.partition("@")
    repository, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        if digest:
            raise NoTarget(f"{reference} is pinned by digest: no tag names its Python version")
        raise NoTarget(f"{reference} has no tag naming a Python version")
    return repository, tag


def target_of(reference: str, machine: str = DEFAULT_MACHINE) -> Target:
    """The target a base image reference gives; NoTarget when it names no Python version."""
    repository, tag = _split(reference)
    if repository.rsplit("/", 1)[-1] == "python":
        match = _PYTHON_TAG.match(tag)
        if match is None:
            raise NoTarget(f"{reference}: the tag {tag!r} names no Python version like 3.11")
        version = f"{match.group(1)}.{match.group(2)}{match.group(3) or ''}"
        flavour = match.group(4) or ""
    else:
        # Images that carry CPython under another name say so in the tag, as
        # ghcr.io/astral-sh/uv:python3.12-bookworm-slim does.
        found = _PYTHON_IN_TAG.search(tag.lower())
        if found is None:
            raise NoTarget(f"{reference} names no Python version")
        version = f"{found.group(1)}.{found.group(2)}{found.group(3) or ''}"
        flavour = tag.lower()
    words = re.split(r"[-_.]", flavour.lower())
    if any(word.startswith("alpine") for word in words):
        return Target(version, "musllinux", MUSL_MINOR, machine)
    release = next((word for word in words if word in GLIBC_BY_RELEASE), None)
    glibc = GLIBC_BY_RELEASE[release] if release else DEFAULT_GLIBC_MINOR
    return Target(version, "manylinux", glibc, machine)
