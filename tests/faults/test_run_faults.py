"""Faults during a real run: failures become rows, interrupts and a dying engine lose nothing,
secrets never appear, concurrent runs keep apart, the user's things are never touched."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bench import storage
from bench.engine import labels
from bench.engine.client import Engine
from bench.lab import processes
from bench.lab.control import lab_docker_host
from bench.lab.paths import LabPaths
from bench.models import RunResult
from tests.faults.conftest import Foreign, bench, one_line_error
from tests.faults.project import make

pytestmark = pytest.mark.docker

FAST = ("--repeat", "1", "--scenario", "cold", "--no-compressed")


def _tree(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def _run(
    tmp_path: Path,
    *variants: str,
    extra: tuple[str, ...] = FAST,
) -> tuple[subprocess.CompletedProcess[str], RunResult]:
    manifest = make(tmp_path / "project")
    result = bench(
        "run",
        *variants,
        "--manifest",
        str(manifest),
        *extra,
        "--out",
        str(tmp_path / "out"),
        "--report-dir",
        str(tmp_path / "reports"),
    )
    (path,) = (tmp_path / "out").glob("*.json")
    return result, storage.load(path)


def _by_name(run: RunResult) -> dict[str, object]:
    return {v.name: v for v in run.variants}


def _nothing_left(engine: Engine, run: RunResult) -> None:
    selector = f"{labels.RUN_ID}={run.run_id}"
    assert engine.images_with_label(selector) == []
    assert engine.containers_with_label(selector) == []
    assert not list(Path(tempfile.gettempdir()).glob(f"dockerfile-bench-{run.run_id}-*"))


def test_build_failures_are_rows_and_the_run_goes_on(
    engine: Engine, foreign: Foreign, tmp_path: Path
) -> None:
    result, run = _run(tmp_path, "syntax", "failing-run", "missing-base", "good")
    assert result.returncode == 1, result.stderr
    rows = _by_name(run)
    assert rows["good"].status == "ok"  # type: ignore[attr-defined]
    expected = {
        "syntax": "unknown instruction",
        "failing-run": "returned a non-zero code: 1",
        "missing-base": "base image 127.0.0.1:5000/dockerfile-bench-test/missing:1 cannot be "
        "pulled",
    }
    for name, reason in expected.items():
        row = rows[name]
        assert row.status == "failed" and reason.lower() in row.reason.lower(), row.reason  # type: ignore[attr-defined]
    failing = rows["failing-run"]
    assert "about to fail" in "\n".join(failing.samples[-1].log_tail)  # type: ignore[attr-defined]
    report = (tmp_path / "reports" / "latest.md").read_text()
    assert "failing-run (failed)" in report and "syntax (failed)" in report
    _nothing_left(engine, run)


def test_smoke_failures_are_rows_with_the_container_log(
    engine: Engine, foreign: Foreign, tmp_path: Path
) -> None:
    result, run = _run(
        tmp_path, "exits", "never-healthy", "wrong-answer", extra=(*FAST, "--smoke-timeout", "4")
    )
    assert result.returncode == 1, result.stderr
    rows = _by_name(run)
    exits = rows["exits"].smoke  # type: ignore[attr-defined]
    assert exits.reason == "container exited with code 3: boom: cannot start"
    assert "boom: cannot start" in exits.log_tail
    never = rows["never-healthy"].smoke.reason  # type: ignore[attr-defined]
    assert never == "not healthy after 4 s: nothing listens on port 8000"
    wrong = rows["wrong-answer"].smoke.reason  # type: ignore[attr-defined]
    assert "virginica" in wrong and """expected it to contain '"label": "setosa"'""" in wrong
    _nothing_left(engine, run)


def test_secrets_never_appear(engine: Engine, foreign: Foreign, tmp_path: Path) -> None:
    token, password = "tok-ABC123xyz987", "pa55word99zz"
    result, run = _run(
        tmp_path,
        "secret-ok",
        "secret-fail",
        extra=(
            *FAST,
            "--build-arg",
            f"MY_TOKEN={token}",
            "--pip-index-url",
            f"https://builder:{password}@127.0.0.1:9/simple",
        ),
    )
    assert result.returncode == 1
    rows = _by_name(run)
    assert rows["secret-ok"].status == "ok"  # type: ignore[attr-defined]
    assert "token is ***" in "\n".join(rows["secret-fail"].samples[-1].log_tail)  # type: ignore[attr-defined]
    everything = (
        result.stdout
        + result.stderr
        + "".join(
            p.read_bytes().decode(errors="replace")  # the charts are PNG
            for p in [*(tmp_path / "out").glob("*"), *(tmp_path / "reports").glob("*")]
        )
    )
    assert token not in everything and password not in everything
    _nothing_left(engine, run)


def _start(tmp_path: Path, *variants: str, extra: tuple[str, ...] = FAST) -> subprocess.Popen[str]:
    manifest = make(tmp_path / "project")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            *variants,
            "--manifest",
            str(manifest),
            *extra,
            "--out",
            str(tmp_path / "out"),
            "--report-dir",
            str(tmp_path / "reports"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(process: subprocess.Popen[str], marker: str, timeout: float = 300) -> str:
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        if marker in line:
            return seen
    raise AssertionError(f"never saw {marker!r}: {seen}")


@pytest.mark.parametrize(
    "sent, code, marker, extra",
    [
        (signal.SIGINT, 130, "slow cold 1/1 ...", FAST),
        (signal.SIGTERM, 143, "slow cold 1/1 ...", FAST),
        (signal.SIGINT, 130, "never-healthy: smoke test", (*FAST, "--smoke-timeout", "120")),
        (
            signal.SIGTERM,
            143,
            "slow-edit edit 1/1 ...",
            ("--repeat", "1", "--scenario", "cold", "--scenario", "edit", "--no-compressed"),
        ),
    ],
)
def test_interrupts_keep_results_and_clean_up(
    engine: Engine,
    foreign: Foreign,
    tmp_path: Path,
    sent: signal.Signals,
    code: int,
    marker: str,
    extra: tuple[str, ...],
) -> None:
    variant = marker.split()[0].rstrip(":")
    process = _start(tmp_path, "good", variant, extra=extra)
    before = _tree(tmp_path / "project")
    _wait_for(process, marker)
    time.sleep(1.5)
    process.send_signal(sent)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == code, output
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("error: interrupted; results so far")
    (path,) = (tmp_path / "out").glob("*.json")
    run = storage.load(path)  # valid, not truncated
    assert not run.complete
    rows = _by_name(run)
    assert rows["good"].status == "ok"  # type: ignore[attr-defined]
    assert rows[variant].status == "failed" and rows[variant].reason == "interrupted"  # type: ignore[attr-defined]
    assert _tree(tmp_path / "project") == before
    _nothing_left(engine, run)


def test_two_runs_at_once_keep_apart(engine: Engine, foreign: Foreign, tmp_path: Path) -> None:
    first = _start(tmp_path / "a", "good", "slow")
    second = _start(tmp_path / "b", "good", "slow")
    outputs = [first.communicate(timeout=600)[0], second.communicate(timeout=600)[0]]
    assert (first.returncode, second.returncode) == (0, 0), outputs
    runs = [storage.load(next((tmp_path / d / "out").glob("*.json"))) for d in ("a", "b")]
    assert runs[0].run_id != runs[1].run_id
    for run in runs:
        assert run.complete and all(v.status == "ok" for v in run.variants)
        _nothing_left(engine, run)


def test_full_disk_keeps_the_previous_results(
    engine: Engine, foreign: Foreign, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
    try:
        previous = disk / "20260101T000000Z-000000.json"
        previous.write_text('{"previous": true}\n')
        filler = disk / "filler"
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(descriptor, b"x" * 4096):
                pass
        except OSError:
            pass  # the disk is full: that is the point
        finally:
            os.close(descriptor)
        result = bench(
            "run",
            "good",
            "--manifest",
            str(make(tmp_path / "p")),
            *FAST,
            "--out",
            str(disk),
            "--report-dir",
            str(tmp_path / "r"),
        )
        assert result.returncode == 2
        line = one_line_error(result)
        assert str(disk) in line and ("No space left" in line or "cannot write" in line)
        assert previous.read_text() == '{"previous": true}\n'
        assert sorted(p.name for p in disk.iterdir()) == ["20260101T000000Z-000000.json", "filler"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# It stops the lab's default engine and brings it back with `lab up`.
@pytest.mark.lab_engines("20.10")
def test_engine_dies_mid_run_then_lab_up_recovers(
    engine: Engine, foreign: Foreign, tmp_path: Path
) -> None:
    paths = LabPaths.default()
    if lab_docker_host(paths) is None or os.environ.get("DOCKER_HOST") not in (
        None,
        paths.docker_host,
    ):
        pytest.fail("this case stops the lab's engine: run the fault suite in the lab")
    process = _start(tmp_path, "good", "slow")
    _wait_for(process, "slow cold 1/1 ...")
    time.sleep(1.5)
    assert processes.stop(paths.pid_file("dockerd"), "dockerd", timeout_seconds=30)
    try:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 2, output
        assert "Traceback" not in output
        last = output.strip().splitlines()[-1]
        assert last.startswith("error: lost the Docker engine") and "results so far" in last
        run = storage.load(next((tmp_path / "out").glob("*.json")))
        rows = _by_name(run)
        assert rows["good"].status == "ok"  # type: ignore[attr-defined]
        assert "lost the Docker engine" in rows["slow"].reason  # type: ignore[attr-defined]
        assert json.loads(next((tmp_path / "out").glob("*.json")).read_text())["complete"] is False
        assert f"warning: could not clean up run {run.run_id}" in output
    finally:
        recovered = bench("lab", "up")
    assert recovered.returncode == 0, recovered.stderr
    assert Engine.reachable(paths.docker_host)
    # The run could not delete its images and containers with the engine gone; the warning
    # named their label, and that label finds them all (the engine may have finished the
    # slow build while it shut down, or kept the container of the step it was killed in),
    # so this test leaves nothing behind either.
    back = Engine(paths.docker_host)
    try:
        selector = f"{labels.RUN_ID}={run.run_id}"
        for container_id in back.containers_with_label(selector):
            back.remove_container(container_id)
        for image_id in back.images_with_label(selector):
            back.remove_image(image_id)
        assert back.images_with_label(selector) == []
        assert back.containers_with_label(selector) == []
    finally:
        back.close()
