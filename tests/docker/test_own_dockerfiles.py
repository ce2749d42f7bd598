"""Users' own Dockerfiles: a CLI, a service on port 9696, an app whose CMD binds 127.0.0.1,
each smoke-tested as it is; and `bench init` + `bench run` on a directory of two of them.
The apps are ours, a few lines of the standard library on python:3.11-slim: no pip."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.engine import labels
from bench.engine.client import Engine
from bench.manifest import SmokeSpec
from bench.run.smoke import smoke_test
from tests.docker.conftest import images_built

pytestmark = pytest.mark.docker

RUN_ID = "own-dockerfiles"
REPO = Path(__file__).resolve().parents[2]

TOOL = """import sys
if sys.argv[1:] == ["--version"]:
    print("wordcount 1.0")
else:
    print(len(" ".join(sys.argv[1:]).split()), "words")
"""
SERVE = """import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

HOST = sys.argv[sys.argv.index("--host") + 1] if "--host" in sys.argv else "0.0.0.0"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        # Only /score exists: GET / answers 404, which still shows the app is alive.
        status = 200 if self.path == "/score" else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


HTTPServer((HOST, 9696), Handler).serve_forever()
"""
CLI_DOCKERFILE = (
    'FROM python:3.11-slim\nCOPY tool.py /tool.py\nENTRYPOINT ["python3", "/tool.py"]\n'
)
SERVICE_DOCKERFILE = (
    "FROM python:3.11-slim\nWORKDIR /srv\nCOPY serve.py ./\nEXPOSE 9696\n"
    'CMD ["python3", "serve.py"]\n'
)
LOOPBACK_DOCKERFILE = SERVICE_DOCKERFILE.replace(
    '"serve.py"]', '"serve.py", "--host", "127.0.0.1"]'
)
# Needs a setting it does not get here, and binds 127.0.0.1 besides: both must be named.
UNCONFIGURED_DOCKERFILE = (
    'FROM python:3.11-slim\nEXPOSE 9696\nCMD ["python3", "-c", '
    '"import os; os.environ[\'API_KEY\']", "--host", "127.0.0.1"]\n'
)


@pytest.fixture(scope="module")
def images(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Our four images, built once, removed at the end with whatever their builds left."""
    context = tmp_path_factory.mktemp("own-dockerfiles")
    (context / "tool.py").write_text(TOOL)
    (context / "serve.py").write_text(SERVE)
    builds: dict[str, tuple[Path, Path, dict[str, str]]] = {}
    for name, text in (
        ("cli", CLI_DOCKERFILE),
        ("service", SERVICE_DOCKERFILE),
        ("loopback", LOOPBACK_DOCKERFILE),
        ("unconfigured", UNCONFIGURED_DOCKERFILE),
    ):
        (context / f"{name}.Dockerfile").write_text(text)
        builds[name] = (context, context / f"{name}.Dockerfile", {})
    with images_built(engine, RUN_ID, builds) as built:
        yield built


def test_a_cli_passes_its_command_check_and_the_default(
    engine: Engine, images: dict[str, str]
) -> None:
    spec = SmokeSpec(kind="command", args=("--version",), output="wordcount 1.0")
    result = smoke_test(engine, images["cli"], labels.for_run(RUN_ID), spec)
    assert result.ok, (result.reason, result.log_tail)
    assert result.checked == "command ['--version'] exits 0 with output containing 'wordcount 1.0'"
    default = smoke_test(engine, images["cli"], labels.for_run(RUN_ID))
    assert default.ok, (default.reason, default.log_tail)
    assert default.checked == "default (no EXPOSE): its command exits 0 or stays up 5 s"
    wrong = smoke_test(
        engine, images["cli"], labels.for_run(RUN_ID), SmokeSpec(kind="command", output="9 words")
    )
    assert wrong.reason == "its output does not contain '9 words': 0 words"


def test_a_service_on_9696_passes_the_default_with_any_answer(
    engine: Engine, images: dict[str, str]
) -> None:
    result = smoke_test(engine, images["service"], labels.for_run(RUN_ID))
    assert result.ok, (result.reason, result.log_tail)
    assert result.checked == "default (EXPOSE): http GET :9696/ -> any answer"
    assert "0.0.0.0:9696" in result.listening


def test_an_app_whose_cmd_binds_loopback_fails_naming_it(
    engine: Engine, images: dict[str, str]
) -> None:
    result = smoke_test(engine, images["loopback"], labels.for_run(RUN_ID))
    assert not result.ok
    assert result.reason is not None
    assert "only on loopback (127.0.0.1:9696)" in result.reason and "0.0.0.0" in result.reason


def test_an_app_missing_its_setting_is_an_exit_with_its_log_and_its_bind(
    engine: Engine, images: dict[str, str]
) -> None:
    result = smoke_test(engine, images["unconfigured"], labels.for_run(RUN_ID))
    assert result.reason is not None
    assert result.reason.startswith("container exited with code 1: KeyError: 'API_KEY'")
    assert "its command binds loopback only (--host 127.0.0.1)" in result.reason
    configured = smoke_test(
        engine,
        images["unconfigured"],
        labels.for_run(RUN_ID),
        SmokeSpec(kind="command", env=(("API_KEY", "k"),)),
    )
    assert configured.ok, configured.reason


def _bench(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two Dockerfiles of ours in a directory: a CLI copying from the top, a service."""
    root = tmp_path / "project"
    (root / "cli").mkdir(parents=True)
    (root / "service").mkdir()
    (root / "cli" / "tool.py").write_text(TOOL)
    (root / "cli" / "Dockerfile").write_text(
        CLI_DOCKERFILE.replace("COPY tool.py", "COPY cli/tool.py")
    )
    (root / "service" / "serve.py").write_text(SERVE)
    (root / "service" / "Dockerfile").write_text(SERVICE_DOCKERFILE)
    return root


def test_init_then_run_measures_both(engine: Engine, project: Path, tmp_path: Path) -> None:
    made = _bench("init", str(project))
    assert made.returncode == 0, made.stderr
    run = _bench(
        "run",
        "--manifest",
        str(project / "variants.toml"),
        "--repeat",
        "1",
        "--scenario",
        "cold",
        "--no-compressed",
        "--out",
        str(tmp_path / "out"),
        "--report-dir",
        str(tmp_path / "reports"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (results,) = (tmp_path / "out").glob("*.json")
    data = json.loads(results.read_text())
    smoke = {variant["name"]: variant["smoke"] for variant in data["variants"]}
    assert smoke["cli"]["ok"] and smoke["service"]["ok"], smoke
    assert smoke["cli"]["checked"] == "default (no EXPOSE): its command exits 0 or stays up 5 s"
    assert smoke["service"]["checked"] == "http GET :9696/ -> any answer"
    assert engine.images_with_label(f"{labels.RUN_ID}={data['run_id']}") == []
    assert engine.containers_with_label(f"{labels.RUN_ID}={data['run_id']}") == []


def test_run_dockerfile_measures_without_a_manifest(
    engine: Engine, project: Path, tmp_path: Path
) -> None:
    run = _bench(
        "run",
        "--dockerfile",
        str(project / "service" / "Dockerfile"),
        "--dockerfile",
        str(project / "cli" / "Dockerfile"),
        "--context",
        str(project / "service"),
        "--context",
        str(project),
        "--repeat",
        "1",
        "--scenario",
        "cold",
        "--no-compressed",
        "--out",
        str(tmp_path / "out"),
        "--no-report",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (project / "variants.toml").exists()
    (results,) = (tmp_path / "out").glob("*.json")
    data = json.loads(results.read_text())
    assert [v["name"] for v in data["variants"]] == ["service", "cli"]
    assert all(v["status"] == "ok" for v in data["variants"]), data["variants"]
