"""A local wheelhouse: wheels downloaded on the host, served to builds on 127.0.0.1."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from collections.abc import Iterable
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


def pip_download_command(requirements: Path, wheelhouse: Path, python_version: str) -> list[str]:
    """Binary wheels only, for the containers' interpreter, not the host's."""
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
        "-r",
        str(requirements),
        "-d",
        str(wheelhouse),
    ]
    for tag in _platform_tags():
        command += ["--platform", tag]
    return command


def _stamp(requirements: Path, python_version: str) -> str:
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    return f"{digest}-py{python_version}"


def fill(
    wheelhouse: Path,
    requirement_files: Iterable[Path],
    python_versions: Iterable[str] = LAB_PYTHON_VERSIONS,
) -> list[str]:
    """Download what is missing; returns what was downloaded (empty when all was there)."""
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
            if result.returncode != 0:
                last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
                raise BenchError(
                    f"pip could not download wheels for {requirements} "
                    f"(Python {version}): {last[0]}"
                )
            done.add(stamp)
            fetched.append(f"{requirements.name}@{version}")
            stamps.write_text("\n".join(sorted(done)) + "\n")
    return fetched
