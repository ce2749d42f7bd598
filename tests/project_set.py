"""tests/projects: our own small projects, their manifest and the outcome each must get."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent / "projects"
MANIFEST = ROOT / "variants.toml"
# The bases the lab lacks, each built from a stand-in (`--lab-base`), as the manifest says.
LAB_BASES = (
    "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea"
    "=python:3.11-slim",
    "python:3.11-slim-bookworm=python:3.11-slim",
    "python:3.14-slim-trixie=python:3.13-slim",
)


@dataclass(frozen=True)
class Expected:
    """One variant's entry in tests/projects/expected.toml."""

    name: str
    patterns: tuple[str, ...]
    builds: bool
    dependency_steps: tuple[str, ...]
    build_error: str = ""
    smoke: Literal["passes", "fails"] = "passes"
    smoke_reason: tuple[str, ...] = ()
    edit_reruns_first: str = ""
    reinstalls_dependencies: bool = False
    loopback_bind: str | None = None


def expectations() -> dict[str, Expected]:
    data = tomllib.loads((ROOT / "expected.toml").read_text())
    return {
        name: Expected(
            name=name,
            patterns=tuple(entry["patterns"]),
            builds=entry["builds"],
            dependency_steps=tuple(entry["dependency_steps"]),
            build_error=entry.get("build_error", ""),
            smoke=entry.get("smoke", "passes"),
            smoke_reason=tuple(entry.get("smoke_reason", ())),
            edit_reruns_first=entry.get("edit_reruns_first", ""),
            reinstalls_dependencies=entry.get("reinstalls_dependencies", False),
            loopback_bind=entry.get("loopback_bind"),
        )
        for name, entry in data.items()
    }
