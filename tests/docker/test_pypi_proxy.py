"""The lab as a real project meets it: a Dockerfile that declares no pip build arguments
installs from PyPI through the lab's caching proxy, and a base the lab lacks is a one-line
failure that `--lab-base` turns into a build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.engine.client import Engine
from bench.lab.paths import ENGINE_NAMES, LabPaths
from tests.faults.project import APP

pytestmark = pytest.mark.docker

# No ARG PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX: the run's wheelhouse build arguments
# never reach pip, which finds the proxy through the stand-in's /etc/pip.conf. six has a
# wheel; docopt 0.6.2 exists only as an sdist, which pip builds with setuptools it also
# fetches through the proxy (build isolation).
PLAIN = """FROM {base}
WORKDIR /app
RUN pip install --no-cache-dir six==1.16.0 docopt==0.6.2
COPY main.py ./
CMD ["python3", "main.py"]
"""
MANIFEST = """schema = 1
[[variant]]
name = "plain"
dockerfile = "app/Dockerfile"
context = "app"
description = "pip install with no pip build arguments"
edit_file = "main.py"
size_budget = "600 MB"
"""


def _lab_only(docker_host: str | None) -> LabPaths:
    paths = LabPaths.default()
    if docker_host not in {paths.docker_host_of(name) for name in ENGINE_NAMES}:
        # As the lab's own tests do: a check of the lab is never skipped in silence.
        pytest.fail("the PyPI proxy and --lab-base are the lab's; an online engine is in use")
    return paths


def _project(root: Path, base: str) -> Path:
    (root / "app").mkdir()
    (root / "app" / "main.py").write_text("import docopt, six  # noqa: F401\n" + APP)
    (root / "app" / "Dockerfile").write_text(PLAIN.format(base=base))
    (root / "variants.toml").write_text(MANIFEST)
    return root / "variants.toml"


def _run(manifest: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
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
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _row(out: Path) -> dict[str, object]:
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    (row,) = data["variants"]
    assert isinstance(row, dict)
    return {**row, "provenance_options": dict(data["provenance"]["options"])}


def test_a_dockerfile_without_pip_arguments_installs_through_the_proxy(
    tmp_path: Path, docker_host: str | None
) -> None:
    paths = _lab_only(docker_host)
    manifest = _project(tmp_path, "python:3.11-slim")
    result = _run(manifest, tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    row = _row(tmp_path / "out")
    assert row["status"] == "ok", row["reason"]
    # The sdist came through the proxy (wheels and sdists alike land in its cache).
    cached = {path.name for path in paths.pypi_proxy_cache.rglob("*")}
    assert "docopt-0.6.2.tar.gz" in cached
    assert any(name.startswith("six-1.16.0") for name in cached)


# The mapping rewrites the scratch copy's FROM lines, the same on any engine: run once, on
# the default engine, to keep CI within its time.
@pytest.mark.lab_engines("20.10")
def test_a_base_the_lab_lacks_fails_in_one_line_and_builds_with_lab_base(
    tmp_path: Path, docker_host: str | None, engine: Engine
) -> None:
    _lab_only(docker_host)
    manifest = _project(tmp_path, "python:3.12-slim")

    missing = _run(manifest, tmp_path / "missing")
    assert missing.returncode == 1, missing.stdout + missing.stderr
    row = _row(tmp_path / "missing")
    assert row["status"] == "failed"
    reason = str(row["reason"])
    assert "\n" not in reason
    assert "python:3.11-slim, python:3.11-alpine, python:3.13-slim" in reason
    assert reason.endswith("--lab-base python:3.12-slim=python:3.11-slim")
    assert reason in missing.stdout  # the run's summary line says it as it is

    mapped = _run(manifest, tmp_path / "mapped", "--lab-base", "python:3.12-slim=python:3.11-slim")
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    row = _row(tmp_path / "mapped")
    assert row["status"] == "ok", row["reason"]
    image = row["image"]
    assert isinstance(image, dict)
    assert image["base_image"] == "python:3.12-slim"
    assert image["base_is_standin"] is True
    options = row["provenance_options"]
    assert isinstance(options, dict)
    assert options["lab_bases"] == "python:3.12-slim=python:3.11-slim"
    # Nothing was tagged under the missing name, and the user's Dockerfile is as it was.
    assert engine.image_id("python:3.12-slim") is None
    assert "FROM python:3.12-slim" in (tmp_path / "app" / "Dockerfile").read_text()
