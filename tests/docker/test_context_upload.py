"""The streamed context against the real engine: what arrives, and a file that cannot."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

from bench.engine import labels
from bench.engine.client import Engine

pytestmark = pytest.mark.docker


def _sha256_in_image(engine: Engine, image: str, path: str) -> str:
    # The container's own command, not `docker exec`: on Engine 26 with the containerd
    # store an exec'd process does not see the files of an image the classic builder made.
    api = engine._api
    container = api.create_container(
        image,
        ["sha256sum", path],
        labels=labels.for_run("context-upload"),
        host_config=api.create_host_config(network_mode="none"),
    )
    try:
        api.start(container["Id"])
        code = api.wait(container["Id"], timeout=60)["StatusCode"]
        output = api.logs(container["Id"]).decode()
        assert code == 0, output
        return output.split()[0]
    finally:
        api.remove_container(container["Id"], force=True)


def _tiny_context(root: Path) -> Path:
    root.mkdir()
    # Several chunks, and not a whole number of tar blocks.
    (root / "data.bin").write_bytes(random.Random(5).randbytes(5 * (1 << 20) + 333))
    (root / "skip.bin").write_bytes(b"never sent")
    (root / ".dockerignore").write_text("skip.bin\n.dockerfile.*\n")
    return root


def test_a_streamed_context_arrives_whole(engine: Engine, tmp_path: Path) -> None:
    context = _tiny_context(tmp_path / "ctx")
    dockerfile = tmp_path / "Dockerfile"  # outside the context, as the variants' are
    dockerfile.write_text(
        "FROM python:3.11-slim\nCOPY . /ctx/\nRUN test ! -e /ctx/skip.bin && ls -A /ctx\n"
        'CMD ["sleep", "300"]\n'
    )
    tag = "dockerfile-bench/context-upload:whole"
    outcome = engine.build(
        context, dockerfile, tag, nocache=True, labels=labels.for_run("context-upload")
    )
    try:
        assert outcome.ok, outcome.error
        expected = hashlib.sha256((context / "data.bin").read_bytes()).hexdigest()
        assert _sha256_in_image(engine, tag, "/ctx/data.bin") == expected
    finally:
        engine.remove_image(tag)


def test_an_unreadable_context_file_fails_that_build_only(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file listed but gone when its turn to be sent comes: the build fails with the
    file's name, the engine is not reported lost, and the next build works."""
    context = _tiny_context(tmp_path / "ctx")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nCOPY . /ctx/\n")

    def with_a_vanished_file(*args: object, **kwargs: object) -> set[str]:
        return {*exclude_paths(*args, **kwargs), "vanished.txt"}  # type: ignore[arg-type]

    monkeypatch.setattr("bench.context.listing.exclude_paths", with_a_vanished_file)
    tag = "dockerfile-bench/context-upload:broken"
    failed = engine.build(
        context, dockerfile, tag, nocache=True, labels=labels.for_run("context-upload")
    )
    assert not failed.ok
    assert failed.error is not None
    assert "cannot read 'vanished.txt' in the build context" in failed.error
    assert engine.image_id(tag) is None

    monkeypatch.undo()
    works = engine.build(
        context, dockerfile, tag, nocache=True, labels=labels.for_run("context-upload")
    )
    try:
        assert works.ok, works.error
    finally:
        engine.remove_image(tag)


@pytest.mark.parametrize("where", ["in a read", "between reads"])
def test_an_interrupted_build_stops_in_the_engine_and_leaves_nothing(
    engine: Engine, tmp_path: Path, where: str
) -> None:
    """Ctrl-C during a RUN step: the engine's build stops too (it would otherwise finish
    after the run's cleanup and leave a labelled image behind), its step container is gone,
    and the image its COPY step committed is known, so the cleanup can delete it.

    "in a read": a real SIGINT while the stream is being read (urllib3 then drops the
    connection itself); "between reads": the interrupt arrives while our code handles an
    event, and only the harness can close the connection."""
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "stamp.txt").write_text(f"{time.time()}\n")  # a new COPY layer every time
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nCOPY stamp.txt /\nRUN sleep 8\n")
    # Unique: a tag left by an earlier failure of this test must not pass for a new one.
    tag = f"dockerfile-bench/context-upload:interrupted-{time.time_ns()}"
    run_labels = labels.for_run("context-upload-interrupted")
    containers_before = {c["Id"] for c in engine._api.containers(all=True)}

    def interrupt(instruction: str) -> None:
        if not instruction.startswith("RUN sleep"):
            return
        if where == "between reads":
            raise KeyboardInterrupt
        threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT)).start()

    # Held until the end, as the run's cleanup runs inside its `except` block: the
    # traceback keeps the build's frames, and the connection in them, alive.
    with pytest.raises(KeyboardInterrupt) as interrupted:
        engine.build(context, dockerfile, tag, nocache=False, labels=run_labels, on_step=interrupt)
    abandoned = engine.abandoned_images()[-1:]
    assert len(abandoned) == 1  # the COPY step's image
    time.sleep(10)  # long enough for the RUN step to have ended, had the engine gone on
    finished = engine.image_id(tag)
    if finished is not None:
        engine.remove_image(tag)
    assert finished is None
    containers_after = {c["Id"] for c in engine._api.containers(all=True)}
    assert containers_after <= containers_before
    assert engine.remove_image(abandoned[0])  # nothing uses it: deleted, not refused
    assert interrupted.traceback  # still held
