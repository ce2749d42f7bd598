"""Bad input and an unreachable engine: one line that says what to do, exit 2, no traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import storage
from tests.faults.conftest import bench, one_line_error
from tests.faults.project import make
from tests.unit.sample_results import sample_run


@pytest.mark.parametrize(
    "docker_host, shown",
    [
        ("unix:///nonexistent/docker.sock", "no such socket"),
        ("tcp://127.0.0.1:9", "no Docker engine answers at tcp://127.0.0.1:9"),
    ],
)
def test_engine_unreachable(tmp_path: Path, docker_host: str, shown: str) -> None:
    manifest = make(tmp_path / "p")
    env = {**os.environ, "DOCKER_HOST": docker_host}
    result = bench(
        "run", "good", "--manifest", str(manifest), "--out", str(tmp_path / "out"), env=env
    )
    assert result.returncode == 2
    line = one_line_error(result)
    assert shown in line and "lab up" in line


GOOD = """schema = 1
[[variant]]
name = "good"
dockerfile = "good.Dockerfile"
context = "app"
description = "d"
edit_file = "app.py"
size_budget = "1 GB"
"""


@pytest.mark.parametrize(
    "text, shown",
    [
        (None, "manifest not found"),
        (GOOD.replace('name = "good"', 'name = "good'), "TOML syntax error"),
        (GOOD + 'flavour = "x"\n', "field 'flavour': unknown field"),
        (GOOD.replace('edit_file = "app.py"\n', ""), "field 'edit_file': missing"),
        (GOOD.replace('"good.Dockerfile"', '"gone.Dockerfile"'), "field 'dockerfile'"),
        (GOOD + GOOD.split("\n", 1)[1], "variant 'good': duplicate name"),
        (GOOD.replace('"1 GB"', '"big"'), "field 'size_budget': expected a size"),
    ],
)
def test_manifest_mistakes(tmp_path: Path, text: str | None, shown: str) -> None:
    make(tmp_path)
    manifest = tmp_path / "variants.toml"
    if text is None:
        manifest.unlink()
    else:
        manifest.write_text(text)
    result = bench("run", "--manifest", str(manifest), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    line = one_line_error(result)
    assert shown in line and str(manifest) in line
    if "TOML" in shown:
        assert "line 3" in line and "column" in line


def test_unknown_variant_on_the_command_line(tmp_path: Path) -> None:
    manifest = make(tmp_path)
    result = bench("run", "nope", "--manifest", str(manifest))
    assert result.returncode == 2
    assert "unknown variant nope" in one_line_error(result)


@pytest.mark.parametrize("command", ["report", "check"])
@pytest.mark.parametrize(
    "content, shown",
    [
        ("{broken", "corrupt results file"),
        (None, "written by a newer dockerfile-bench"),
    ],
)
def test_corrupt_or_future_results(
    tmp_path: Path, command: str, content: str | None, shown: str
) -> None:
    path = tmp_path / "20261124T000000Z-abc123.json"
    if content is None:
        data = storage.to_dict(sample_run())
        data["schema_version"] = storage.SCHEMA_VERSION + 1
        content = json.dumps(data)
    path.write_text(content)
    args = [command, str(path)] + (
        ["--report-dir", str(tmp_path / "r")] if command == "report" else []
    )
    result = bench(*args)
    assert result.returncode == 2
    line = one_line_error(result)
    assert str(path) in line and shown in line


def test_results_directory_that_is_a_file(tmp_path: Path) -> None:
    manifest = make(tmp_path / "p")
    blocker = tmp_path / "results"
    blocker.write_text("a file where the directory should be")
    result = bench("run", "good", "--manifest", str(manifest), "--out", str(blocker))
    assert result.returncode == 2
    assert "cannot write results there" in one_line_error(result)
    assert blocker.read_text() == "a file where the directory should be"
