"""The size gate end to end: a Dockerfile that adds 20 MB fails `bench check`, naming the layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
BLOAT = "RUN head -c 20000000 /dev/urandom > /bloat.bin"


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _run_alpine(manifest: Path, out: Path) -> Path:
    result = _bench(
        "run",
        "alpine",
        "--manifest",
        str(manifest),
        "--repeat",
        "1",
        "--scenario",
        "cold",
        "--no-compressed",
        "--no-report",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("*.json")
    return path


# The gate's end-to-end path is the same code on any engine (its per-store baselines are unit
# tested): run once, on the default engine, to keep CI within its time.
@pytest.mark.lab_engines("20.10")
def test_twenty_megabytes_more_fails_the_check(tmp_path: Path) -> None:
    variants = tmp_path / "variants"
    shutil.copytree(
        REPO / "variants",
        variants,
        ignore=shutil.ignore_patterns("__pycache__", "*.joblib", ".pytest_cache"),
    )
    manifest = variants / "variants.toml"
    before = _run_alpine(manifest, tmp_path / "before")
    baseline = tmp_path / "baseline.json"
    update = _bench("baseline", "update", str(before), "--baseline", str(baseline))
    assert update.returncode == 0, update.stderr

    same = _bench("check", str(before), "--baseline", str(baseline), "--manifest", str(manifest))
    assert same.returncode == 0, same.stdout + same.stderr

    dockerfile = variants / "alpine" / "Dockerfile"
    text = dockerfile.read_text()
    dockerfile.write_text(text.replace("USER 10001", f"{BLOAT}\nUSER 10001"))
    after = _run_alpine(manifest, tmp_path / "after")
    bloated = _bench("check", str(after), "--baseline", str(baseline), "--manifest", str(manifest))
    assert bloated.returncode == 1, bloated.stdout + bloated.stderr
    assert "alpine" in bloated.stdout and "FAIL" in bloated.stdout
    assert BLOAT in bloated.stdout and "+20.0 MB (new layer)" in bloated.stdout
    print(bloated.stdout)  # the table, for the record (pytest -s)
