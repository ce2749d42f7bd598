"""All five variants build from a clean cache in the lab and pass the smoke test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.engine import labels
from bench.engine.client import Engine

# Once, on the default engine: the five builds take minutes, and the same harness code runs
# on Engine 26 in test_harness and test_builders (its BuildKit and containerd store).
pytestmark = [pytest.mark.docker, pytest.mark.lab_engines("20.10")]


def test_every_variant_builds_cold_and_runs(engine: Engine, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("full", "slim", "alpine", "multistage", "naive"):
        line = next(line for line in result.stdout.splitlines() if line.startswith(name + " "))
        assert " ok: http GET :8000/health -> 200, POST :8000/predict" in line, line
        assert "ready after" in line, line
    (results_file,) = tmp_path.glob("*.json")
    data = json.loads(results_file.read_text())
    assert data["complete"] is True
    run_id = data["run_id"]
    # Nothing of the run is left behind.
    assert engine.images_with_label(f"{labels.RUN_ID}={run_id}") == []
    assert engine.containers_with_label(f"{labels.RUN_ID}={run_id}") == []
