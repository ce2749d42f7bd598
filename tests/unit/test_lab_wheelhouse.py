"""`lab wheels`: a requirement without a wheel for a lab Python is skipped, not fatal."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.errors import BenchError
from bench.lab import wheelhouse


def test_requirement_lines_leave_out_options_and_comments() -> None:
    text = "# pinned\n-r base.txt\nfastapi==0.115.0  # web\n\n--hash=sha256:x\nasyncpg>=0.29\n"
    assert wheelhouse.requirement_lines(text) == ["fastapi==0.115.0", "asyncpg>=0.29"]


def test_one_requirement_download_names_it_instead_of_the_file(tmp_path: Path) -> None:
    command = wheelhouse.pip_download_command(None, tmp_path, "3.13", "asyncpg==0.30.0")
    assert "asyncpg==0.30.0" in command
    assert "-r" not in command
    assert command[command.index("--python-version") + 1] == "3.13"


def _fake_pip(no_wheel: str) -> Any:
    """pip download that fails for the whole file and for `no_wheel`, as a missing wheel does."""

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        failed = "-r" in command or no_wheel in command
        error = f"ERROR: No matching distribution found for {no_wheel}" if failed else ""
        return subprocess.CompletedProcess(command, 1 if failed else 0, "", error)

    return run


def test_tolerant_fill_skips_a_requirement_without_a_wheel_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("fastapi==0.115.0\npsycopg2==2.9.10\n")
    monkeypatch.setattr(subprocess, "run", _fake_pip("psycopg2==2.9.10"))
    warnings: list[str] = []
    fetched = wheelhouse.fill(
        tmp_path / "wheels", [requirements], ("3.13",), tolerant=True, warn=warnings.append
    )
    assert fetched == ["requirements.txt@3.13 (skipped 1)"]
    (warning,) = warnings
    assert warning.startswith("warning: no wheel of psycopg2==2.9.10")
    assert "Python 3.13" in warning and "\n" not in warning
    # Not recorded as done: the next `lab wheels` tries the skipped one again.
    assert not (tmp_path / "wheels" / ".downloaded").exists()


def test_strict_fill_stops_at_a_missing_wheel_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("psycopg2==2.9.10\n")
    monkeypatch.setattr(subprocess, "run", _fake_pip("psycopg2==2.9.10"))
    with pytest.raises(BenchError, match="No matching distribution found for psycopg2"):
        wheelhouse.fill(tmp_path / "wheels", [requirements], ("3.13",))
