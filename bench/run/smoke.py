"""Smoke test: start the image, ask it for health and a prediction from outside the container.

Nothing runs inside the container but the image's own command: no `docker exec` (which needs a
shell or Python in the image, and breaks on some engines' WORKDIR handling). How the request
gets in is bench/run/reach.py's business; this module decides what to ask and what it means.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.engine.client import Engine
from bench.errors import BenchError
from bench.models import SmokeResult, SmokeStrategy
from bench.run import reach
from bench.run.reach import Listener, Reach


@dataclass(frozen=True)
class SmokeSpec:
    """What the sample app must answer, on which port of the container."""

    port: int = 8000
    health_path: str = "/health"
    predict_path: str = "/predict"
    predict_body: str = json.dumps({"features": [5.1, 3.5, 1.4, 0.2]})
    expected_label: str = "setosa"
    ready_timeout_seconds: float = 60.0
    poll_interval_seconds: float = 0.25


@dataclass(frozen=True)
class _Way:
    """A started container and how to ask it: a socket maker, an address, maybe a pid."""

    strategy: SmokeStrategy
    make: reach.SocketMaker
    host: str
    port: int
    pid: int | None  # a host pid, for /proc; only with netns

    def listening(self) -> tuple[Listener, ...] | None:
        """What the app listens on; None where it cannot be seen (published-port)."""
        return reach.listeners_of(self.pid) if self.pid is not None else None

    def ask(self, path: str, body: str = "") -> reach.Answer:
        return reach.ask(self.make, self.host, self.port, path, body)


class _CannotEnter(Exception):
    """The chosen way in does not work for this container; the next one may."""


def engine_reach(engine: Engine) -> Reach:
    """How this process can reach containers of `engine`."""
    return reach.host_reach(
        engine.docker_host, engine.info().operating_system, engine.has_bridge_network()
    )


def smoke_test(
    engine: Engine,
    image: str,
    labels: dict[str, str],
    spec: SmokeSpec = SmokeSpec(),
    on_container: Callable[[str | None], None] | None = None,
    reach_facts: Reach | None = None,
) -> SmokeResult:
    """Start, wait until healthy, check a prediction, measure memory, always remove."""
    # `reach_facts` decides the way in; by default they are found out from the engine.
    try:
        ways = reach.strategies(reach_facts or engine_reach(engine))
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message)
    reasons: list[str] = []
    for strategy in ways:
        try:
            return _smoke_by(engine, image, labels, spec, on_container, strategy)
        except _CannotEnter as error:
            reasons.append(f"{strategy}: {error}")
    return SmokeResult(
        ok=False, reason="cannot reach the app from outside its container: " + "; ".join(reasons)
    )


def _smoke_by(
    engine: Engine,
    image: str,
    labels: dict[str, str],
    spec: SmokeSpec,
    on_container: Callable[[str | None], None] | None,
    strategy: SmokeStrategy,
) -> SmokeResult:
    try:
        if strategy == "netns":
            container_id = engine.start_container(image, labels, network_mode="none")
        else:
            container_id = engine.start_container(
                image, labels, network_mode="bridge", publish_port=spec.port
            )
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message, reached_by=strategy)
    if on_container:
        on_container(container_id)
    started = time.perf_counter()
    try:
        way = _way_in(engine, container_id, strategy, spec.port)
        if way is None:
            return _failed(engine, container_id, _exit_reason(engine, container_id), strategy)
        return _check(engine, container_id, way, spec, started)
    finally:
        engine.remove_container(container_id)
        if on_container:
            on_container(None)


def _way_in(engine: Engine, container_id: str, strategy: SmokeStrategy, port: int) -> _Way | None:
    """How to ask this container; None if it stopped before we could tell."""
    if strategy == "published-port":
        host_port = engine.published_port(container_id, port)
        if host_port is None:
            if not engine.container_state(container_id)[0]:
                return None
            raise _CannotEnter(f"the engine published no host port for {port}/tcp")
        return _Way(strategy, reach.plain_socket, "127.0.0.1", host_port, None)
    pid = engine.container_pid(container_id)
    if pid is None:
        return None
    # 127.0.0.1 serves 0.0.0.0 and dual-stack [::] listeners alike.
    way = _Way(strategy, reach.netns_socket(pid), "127.0.0.1", port, pid)
    try:
        if not _is_container_process(pid, container_id):
            # The engine's pids are not ours (an engine in another pid namespace or a VM).
            raise _CannotEnter(f"the container's pid {pid} is not a process of this host")
        # Tried once here, so that a refusal (root only in a user namespace, a seccomp
        # filter) is a way that does not work, not a minute of polling that cannot succeed.
        try:
            way.make(socket.AF_INET).close()
            way.listening()
        except (OSError, BenchError) as error:
            raise _CannotEnter(
                f"cannot enter the container's network namespace: {error}"
            ) from error
    except _CannotEnter:
        # A container that exits at once takes its pid with it: that is its failure.
        if not engine.container_state(container_id)[0]:
            return None
        raise
    return way


def _is_container_process(pid: int, container_id: str) -> bool:
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def _check(
    engine: Engine, container_id: str, way: _Way, spec: SmokeSpec, started: float
) -> SmokeResult:
    health = reach.Answer(None, "")
    listening: tuple[Listener, ...] | None = None
    while True:
        running, _ = engine.container_state(container_id)
        if not running:
            return _failed(
                engine,
                container_id,
                _exit_reason(engine, container_id),
                way.strategy,
                listening=listening,
            )
        listening = _listening(way, listening)
        if listening is not None and (local := reach.loopback_only(listening, spec.port)):
            # Reachable from inside, never through -p: the image is broken as shipped.
            return _failed(
                engine,
                container_id,
                _loopback_reason(local, spec.port),
                way.strategy,
                listening=listening,
            )
        if _port_open(listening, spec.port):
            health = way.ask(spec.health_path)
            if health.ok:
                break
        if time.perf_counter() - started > spec.ready_timeout_seconds:
            return _failed(
                engine,
                container_id,
                _not_ready_reason(way, listening, spec, health),
                way.strategy,
                listening=listening,
            )
        time.sleep(spec.poll_interval_seconds)
    ready_seconds = time.perf_counter() - started
    memory_bytes = engine.container_memory_bytes(container_id)
    answer = way.ask(spec.predict_path, spec.predict_body)
    prediction = answer.text
    failure: str | None = None
    if not answer.ok:
        failure = f"{spec.predict_path} failed: {_described(answer)}"
    elif _label(prediction) != spec.expected_label:
        failure = (
            f"{spec.predict_path} answered {prediction[:120]!r}, expected label "
            f"{spec.expected_label!r}"
        )
    if failure is not None:
        return _failed(
            engine,
            container_id,
            failure,
            way.strategy,
            ready_seconds,
            memory_bytes,
            health.text,
            listening,
        )
    return SmokeResult(
        ok=True,
        ready_seconds=ready_seconds,
        memory_bytes=memory_bytes,
        health=health.text[:200],
        prediction=prediction[:200],
        listening=_named(listening),
        reached_by=way.strategy,
    )


def _label(prediction: str) -> object:
    try:
        return json.loads(prediction).get("label")
    except (ValueError, AttributeError):
        return None


def _listening(way: _Way, before: tuple[Listener, ...] | None) -> tuple[Listener, ...] | None:
    try:
        return way.listening()
    except BenchError:
        return before  # the process is going away; its state says so on the next look


def _port_open(listening: tuple[Listener, ...] | None, port: int) -> bool:
    # Where listeners cannot be seen, only asking tells.
    return listening is None or any(listener.port == port for listener in listening)


def _loopback_reason(local: tuple[Listener, ...], port: int) -> str:
    addresses = ", ".join(map(str, local))
    return (
        f"the app listens on port {port} only on loopback ({addresses}): unreachable through "
        f"a published port (-p {port}:{port}); bind 0.0.0.0 instead "
        "(for uvicorn: --host 0.0.0.0)"
    )


def _not_ready_reason(
    way: _Way, listening: tuple[Listener, ...] | None, spec: SmokeSpec, health: reach.Answer
) -> str:
    reason = f"not healthy after {spec.ready_timeout_seconds:.0f} s"
    if listening is not None and not _port_open(listening, spec.port):
        elsewhere = ", ".join(map(str, listening))
        return f"{reason}: nothing listens on port {spec.port}" + (
            f" (listening: {elsewhere})" if elsewhere else ""
        )
    if health.status is not None:
        return f"{reason}: {spec.health_path} answered {_described(health)}"
    if way.strategy == "published-port":
        # From outside, an app bound to 127.0.0.1 looks just like one that never started.
        return (
            f"{reason} through 127.0.0.1:{way.port} (an app listening only on 127.0.0.1 "
            "inside the container is unreachable this way: bind 0.0.0.0)"
        )
    return f"{reason}: {spec.health_path}: {_described(health)}" if health.text else reason


def _exit_reason(engine: Engine, container_id: str) -> str:
    _, exit_code = engine.container_state(container_id)
    return f"container exited with code {exit_code}"


def _named(listening: tuple[Listener, ...] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(map(str, listening or ())))


def _described(answer: reach.Answer) -> str:
    if answer.status is None:
        return _last(answer.text)
    return f"HTTP {answer.status}: {_last(answer.text)}"


def _last(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def _failed(
    engine: Engine,
    container_id: str,
    reason: str,
    strategy: SmokeStrategy,
    ready_seconds: float | None = None,
    memory_bytes: int | None = None,
    health: str | None = None,
    listening: tuple[Listener, ...] | None = None,
) -> SmokeResult:
    return SmokeResult(
        ok=False,
        reason=reason,
        ready_seconds=ready_seconds,
        memory_bytes=memory_bytes,
        health=health or None,
        log_tail=engine.container_logs(container_id, tail=15),
        listening=_named(listening),
        reached_by=strategy,
    )
