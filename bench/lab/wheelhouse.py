"""A local wheelhouse: wheels downloaded on the host, served to builds on 127.0.0.1."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from bench.errors import BenchError

# Python versions the lab has bases for (python:3.11* and python:3.13-slim).
LAB_PYTHON_VERSIONS = ("3.11", "3.13")


def _platform_tags() -> list[str]:
    machine = platform.machine()
    return [f"manylinux_2_{minor}_{machine}" for minor in (36, 34, 28, 17, 12, 5)] + [
        f"manylinux2014_{machine}",
        f"manylinux1_{machine}",
    ]


def pip_download_command(
    requirements: Path | None, wheelhouse: Path, python_version: str, requirement: str = ""
) -> list[str]:
    """Binary wheels only, for the containers' interpreter, not the host's: those of a
    requirements file, or of one requirement."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        *(["-r", str(requirements)] if requirements is not None else [requirement]),
        "-d",
        str(wheelhouse),
    ]
    for tag in _platform_tags():
        command += ["--platform", tag]
    return command


def _stamp(requirements: Path, python_version: str) -> str:
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    return f"{digest}-py{python_version}"


def requirement_lines(text: str) -> list[str]:
    """The requirements of a requirements file, one each; options and comments left out."""
    found = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        # Options (-r, -c, --hash, an index) and continuation marks are not requirements.
        if line and not line.startswith(("#", "-")):
            found.append(line.rstrip("\\").strip())
    return found


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    return ((result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"])[0]


def _one_by_one(
    requirements: Path, wheelhouse: Path, version: str, warn: Callable[[str], None]
) -> list[str]:
    """Each requirement on its own; one without a wheel for `version` is skipped, with a
    warning. Returns those skipped."""
    skipped = []
    for requirement in requirement_lines(requirements.read_text()):
        result = subprocess.run(
            pip_download_command(None, wheelhouse, version, requirement),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            warn(
                f"warning: no wheel of {requirement} (or of what it needs) for Python {version}, "
                f"skipped: {_last_line(result)}"
            )
            skipped.append(requirement)
    return skipped


def _warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fill(
    wheelhouse: Path,
    requirement_files: Iterable[Path],
    python_versions: Iterable[str] = LAB_PYTHON_VERSIONS,
    *,
    tolerant: bool = False,
    warn: Callable[[str], None] = _warn,
) -> list[str]:
    """Download what is missing; returns what was downloaded (empty when all was there).

    Strict (lab up): a requirement without a wheel stops it. Tolerant (`lab wheels`): such a
    requirement is skipped with a warning, and the others are still downloaded.
    """
    wheelhouse.mkdir(parents=True, exist_ok=True)
    stamps = wheelhouse / ".downloaded"
    done = set(stamps.read_text().split()) if stamps.is_file() else set()
    fetched: list[str] = []
    for requirements in requirement_files:
        if not requirements.is_file():
            raise BenchError(f"{requirements}: requirements file not found")
        for version in python_versions:
            stamp = _stamp(requirements, version)
            if stamp in done:
                continue
            print(
                f"lab: downloading wheels for {requirements.name} (Python {version}) ...",
                flush=True,
            )
            result = subprocess.run(
                pip_download_command(requirements, wheelhouse, version),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0 and not tolerant:
                raise BenchError(
                    f"pip could not download wheels for {requirements} "
                    f"(Python {version}): {_last_line(result)}"
                )
            if result.returncode != 0:
                # pip stops at the first requirement it cannot satisfy: the rest one by one.
                skipped = _one_by_one(requirements, wheelhouse, version, warn)
                if skipped:
                    # Not stamped: the next `lab wheels` tries the skipped ones again.
                    fetched.append(f"{requirements.name}@{version} (skipped {len(skipped)})")
                    continue
            done.add(stamp)
            fetched.append(f"{requirements.name}@{version}")
            stamps.write_text("\n".join(sorted(done)) + "\n")
    return fetched
