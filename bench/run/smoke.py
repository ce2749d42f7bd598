"""Smoke test: start the image with no network, ask it for health and a prediction from inside."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.engine.client import Engine
from bench.errors import BenchError
from bench.models import SmokeResult


@dataclass(frozen=True)
class SmokeSpec:
    """What the sample app must answer; the port is inside the container (no network needed)."""

    port: int = 8000
    health_path: str = "/health"
    predict_path: str = "/predict"
    predict_body: str = json.dumps({"features": [5.1, 3.5, 1.4, 0.2]})
    expected_label: str = "setosa"
    ready_timeout_seconds: float = 60.0
    poll_interval_seconds: float = 0.25


# Runs inside the container with the image's own Python: --network none leaves only loopback,
# so the request has to come from within.
_REQUEST = """
import sys, urllib.request
url, body = sys.argv[1], sys.argv[2]
data = body.encode() if body else None
request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=5) as response:
    sys.stdout.write(response.read().decode())
"""


def _ask(engine: Engine, container_id: str, url: str, body: str = "") -> tuple[bool, str]:
    exit_code, output = engine.exec_in(container_id, ["python3", "-c", _REQUEST, url, body])
    return exit_code == 0, output.strip()


def smoke_test(
    engine: Engine,
    image: str,
    labels: dict[str, str],
    spec: SmokeSpec = SmokeSpec(),
    on_container: Callable[[str | None], None] | None = None,
) -> SmokeResult:
    """Start, wait until healthy, check a prediction, measure memory, always remove."""
    try:
        container_id = engine.start_container(image, labels, network_mode="none")
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message)
    if on_container:
        on_container(container_id)
    started = time.perf_counter()
    try:
        return _check(engine, container_id, spec, started)
    finally:
        engine.remove_container(container_id)
        if on_container:
            on_container(None)


def _check(engine: Engine, container_id: str, spec: SmokeSpec, started: float) -> SmokeResult:
    base = f"http://127.0.0.1:{spec.port}"
    health = ""
    while True:
        running, exit_code = engine.container_state(container_id)
        if not running:
            return _failed(engine, container_id, f"container exited with code {exit_code}")
        healthy, health = _ask(engine, container_id, base + spec.health_path)
        if healthy:
            break
        if time.perf_counter() - started > spec.ready_timeout_seconds:
            return _failed(
                engine,
                container_id,
                f"not healthy after {spec.ready_timeout_seconds:.0f} s",
            )
        time.sleep(spec.poll_interval_seconds)
    ready_seconds = time.perf_counter() - started
    memory_bytes = engine.container_memory_bytes(container_id)
    answered, prediction = _ask(engine, container_id, base + spec.predict_path, spec.predict_body)
    if not answered:
        return _failed(
            engine,
            container_id,
            f"{spec.predict_path} failed: {_last(prediction)}",
            ready_seconds,
            memory_bytes,
            health,
        )
    try:
        label = json.loads(prediction).get("label")
    except (ValueError, AttributeError):
        label = None
    if label != spec.expected_label:
        return _failed(
            engine,
            container_id,
            f"{spec.predict_path} answered {prediction[:120]!r}, expected label "
            f"{spec.expected_label!r}",
            ready_seconds,
            memory_bytes,
            health,
        )
    return SmokeResult(
        ok=True,
        ready_seconds=ready_seconds,
        memory_bytes=memory_bytes,
        health=health[:200],
        prediction=prediction[:200],
    )


def _last(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def _failed(
    engine: Engine,
    container_id: str,
    reason: str,
    ready_seconds: float | None = None,
    memory_bytes: int | None = None,
    health: str | None = None,
) -> SmokeResult:
    return SmokeResult(
        ok=False,
        reason=reason,
        ready_seconds=ready_seconds,
        memory_bytes=memory_bytes,
        health=health or None,
        log_tail=engine.container_logs(container_id, tail=15),
    )
