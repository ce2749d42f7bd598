"""Smoke test: start the image and check it as its manifest says, or as its image config suggests.

Kinds (bench/manifest.py's SmokeSpec): "http" asks from outside the container, "command" runs
the entrypoint with arguments and reads its exit code and output, "stays-up" watches it keep
running, "none" records why it is not run. Without a smoke section the check is derived from
the built image: with EXPOSE, any HTTP answer on each exposed port; without, the default
command must exit 0 or stay up.

Nothing runs inside the container but the image's own command: no `docker exec` (which needs a
shell or Python in the image, and breaks on some engines' WORKDIR handling). How a request
gets in is bench/run/reach.py's business; this module decides what to ask and what it means.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from bench.engine.client import Engine
from bench.errors import BenchError
from bench.manifest import HttpCheck, SmokeSpec
from bench.models import ImageConfig, SmokeResult, SmokeStrategy
from bench.run import reach
from bench.run.reach import Listener, Reach

# How long the default check for an image without EXPOSE waits: a service has crashed on a
# missing setting by then, or is up; a CLI has long exited.
DEFAULT_STAYS_UP_SECONDS = 5.0

# What is checked, once resolved against the image: "runs" is the default without EXPOSE
# (the default command exits 0, or keeps running for a while).
PlanKind = Literal["http", "command", "stays-up", "runs", "none"]


@dataclass(frozen=True)
class SmokePlan:
    """The check to run on one image: the manifest's, or one derived from its config."""

    kind: PlanKind
    spec: SmokeSpec
    derived: bool = False

    def describe(self) -> str:
        """What is checked, in a few words (SmokeResult.checked)."""
        spec = self.spec
        if self.kind == "http":
            text = "http " + ", ".join(check.describe() for check in spec.checks)
        elif self.kind == "command":
            args = "its CMD" if spec.args is None else repr(list(spec.args))
            text = f"command {args} exits {spec.exit_code}"
            text += f" with output containing {spec.output!r}" if spec.output else ""
        elif self.kind == "stays-up":
            text = f"stays up {spec.seconds:g} s"
        elif self.kind == "runs":
            text = f"its command exits 0 or stays up {spec.seconds:g} s"
        else:
            text = f"not run: {spec.reason}"
        if not self.derived:
            return text
        why = "EXPOSE" if self.kind == "http" else "no EXPOSE"
        return f"default ({why}): {text}"


def plan(spec: SmokeSpec, config: ImageConfig) -> SmokePlan:
    """The manifest's check, or without a kind one derived from the image's config."""
    if spec.kind is not None:
        return SmokePlan(spec.kind, spec)
    if config.exposed_tcp_ports:
        # Any HTTP answer (a 404 from an app without `/`) shows the app is up and reachable.
        checks = tuple(HttpCheck(port=port, status="any") for port in config.exposed_tcp_ports)
        return SmokePlan("http", replace(spec, kind="http", checks=checks), derived=True)
    return SmokePlan("runs", replace(spec, seconds=DEFAULT_STAYS_UP_SECONDS), derived=True)


# Loopback binds named in a command line -------------------------------------------------------

_LOOPBACK = r"(?:127(?:\.\d{1,3}){3}|localhost|\[?::1\]?)"
_BIND_FLAGS = (
    # uvicorn, hypercorn, flask --host, many others: --host 127.0.0.1 / --host=localhost
    re.compile(rf"(?<!\S)(--host(?:=|\s+)['\"]?{_LOOPBACK})(?![\w.])"),
    # gunicorn, hypercorn: --bind localhost:8000, -b 127.0.0.1:8000, --bind=127.0.0.1
    re.compile(rf"(?<!\S)((?:--bind|-b)(?:=|\s+)['\"]?{_LOOPBACK}(?::\d+)?)(?![\w.])"),
)
_FLASK_RUN = re.compile(
    r"(?<!\S)(?:python[\d.]*\s+-m\s+)?flask\b(?:\s+--?\S+(?:\s+\S+)?)*?\s+run\b"
)
_FLASK_HOST = re.compile(r"(?<!\S)(?:--host|-h)(?:=|\s)")
_RUNSERVER = re.compile(r"\brunserver\b(?:\s+(\S+))?")


def loopback_bind(argv: tuple[str, ...], env: Mapping[str, str] | None = None) -> str | None:
    """The part of a command line that binds it to loopback only, or None.

    Read from the text, so it is named even when the app cannot start here (a missing
    setting): `--host 127.0.0.1`, `--bind localhost:8000`, `-b 127.0.0.1:...`, `flask run`
    without `--host`, Django's `runserver` without an address.
    """
    text = " ".join(argv)
    for pattern in _BIND_FLAGS:
        found = pattern.search(text)
        if found:
            return " ".join(found.group(1).replace("'", "").replace('"', "").split())
    flask_host = _FLASK_HOST.search(text) or (env or {}).get("FLASK_RUN_HOST")
    if _FLASK_RUN.search(text) and not flask_host:
        return "flask run (binds 127.0.0.1 unless given --host 0.0.0.0)"
    runserver = _RUNSERVER.search(text)
    if runserver:
        address = runserver.group(1) or ""
        if not address or address.startswith("-") or address.isdigit():
            return "runserver (binds 127.0.0.1 unless given 0.0.0.0:PORT)"
        if re.fullmatch(rf"{_LOOPBACK}(?::\d+)?", address):
            return f"runserver {address}"
    return None


def _loopback_command_reason(found: str) -> str:
    return (
        f"its command binds loopback only ({found}): unreachable from outside the container "
        "(and through -p); bind 0.0.0.0 instead"
    )


# The way in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Way:
    """A started container and how to ask it: a socket maker, addresses, maybe a pid."""

    strategy: SmokeStrategy
    make: reach.SocketMaker
    host: str
    ports: Mapping[int, int]  # container port -> the port to connect to
    pid: int | None  # a host pid, for /proc; only with netns

    def listening(self) -> tuple[Listener, ...] | None:
        """What the app listens on; None where it cannot be seen (published-port)."""
        return reach.listeners_of(self.pid) if self.pid is not None else None

    def ask(self, check: HttpCheck) -> reach.Answer:
        return reach.ask(
            self.make, self.host, self.ports[check.port], check.path, check.body, check.verb
        )


class _CannotEnter(Exception):
    """The chosen way in does not work for this container; the next one may."""


def engine_reach(engine: Engine) -> Reach:
    """How this process can reach containers of `engine`."""
    return reach.host_reach(
        engine.docker_host, engine.info().operating_system, engine.has_bridge_network()
    )


_DERIVED = SmokeSpec()  # no smoke section: derive the check from the image


@dataclass(frozen=True)
class _Run:
    """One smoke test's fixed inputs."""

    engine: Engine
    image: str
    labels: dict[str, str]
    plan: SmokePlan
    env: dict[str, str]
    loopback: str | None  # a loopback bind read from the command line
    ready_timeout_seconds: float
    poll_interval_seconds: float
    on_container: Callable[[str | None], None] | None


def smoke_test(
    engine: Engine,
    image: str,
    labels: dict[str, str],
    spec: SmokeSpec = _DERIVED,
    on_container: Callable[[str | None], None] | None = None,
    reach_facts: Reach | None = None,
    *,
    ready_timeout_seconds: float = 60.0,
    poll_interval_seconds: float = 0.25,
) -> SmokeResult:
    """Start the image, check it as planned, measure memory, always remove the container."""
    try:
        config = engine.image_config(image)
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message)
    chosen = plan(spec, config)
    env = dict(spec.env)
    argv = config.entrypoint + (
        spec.args if chosen.kind == "command" and spec.args is not None else config.cmd
    )
    image_env = dict(line.partition("=")[::2] for line in config.env)
    run = _Run(
        engine,
        image,
        labels,
        chosen,
        env,
        loopback_bind(argv, {**image_env, **env}),
        ready_timeout_seconds,
        poll_interval_seconds,
        on_container,
    )
    if chosen.kind == "none":
        return SmokeResult(ok=True, checked=chosen.describe())
    if chosen.kind != "http":
        result = _without_network(run, reach_facts)
    else:
        result = _over_http(run, reach_facts)
    if not result.ok and run.loopback and chosen.kind != "command":
        reason = result.reason or ""
        if "loopback" not in reason:
            reason += f"; {_loopback_command_reason(run.loopback)}"
        result = replace(result, reason=reason)
    return replace(result, checked=chosen.describe())


def _over_http(run: _Run, reach_facts: Reach | None) -> SmokeResult:
    # `reach_facts` decides the way in; by default they are found out from the engine.
    try:
        ways = reach.strategies(reach_facts or engine_reach(run.engine))
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message)
    reasons: list[str] = []
    for strategy in ways:
        try:
            return _smoke_by(run, strategy)
        except _CannotEnter as error:
            reasons.append(f"{strategy}: {error}")
    return SmokeResult(
        ok=False, reason="cannot reach the app from outside its container: " + "; ".join(reasons)
    )


def _start(run: _Run, strategy: SmokeStrategy | None = None) -> str:
    ports = tuple(dict.fromkeys(check.port for check in run.plan.spec.checks))
    if strategy == "published-port":
        container_id = run.engine.start_container(
            run.image,
            run.labels,
            network_mode="bridge",
            publish_ports=ports,
            environment=run.env,
        )
    else:
        args = run.plan.spec.args if run.plan.kind == "command" else None
        container_id = run.engine.start_container(
            run.image, run.labels, network_mode="none", command=args, environment=run.env
        )
    if run.on_container:
        run.on_container(container_id)
    return container_id


def _removed(run: _Run, container_id: str) -> None:
    run.engine.remove_container(container_id)
    if run.on_container:
        run.on_container(None)


def _smoke_by(run: _Run, strategy: SmokeStrategy) -> SmokeResult:
    try:
        container_id = _start(run, strategy)
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message, reached_by=strategy)
    started = time.perf_counter()
    try:
        way = _way_in(run, container_id, strategy)
        if way is None:
            return _failed(run, container_id, _exit_reason(run, container_id), strategy)
        return _check(run, container_id, way, started)
    finally:
        _removed(run, container_id)


def _way_in(run: _Run, container_id: str, strategy: SmokeStrategy) -> _Way | None:
    """How to ask this container; None if it stopped before we could tell."""
    engine = run.engine
    ports = tuple(dict.fromkeys(check.port for check in run.plan.spec.checks))
    if strategy == "published-port":
        host_ports: dict[int, int] = {}
        for port in ports:
            host_port = engine.published_port(container_id, port)
            if host_port is None:
                if not engine.container_state(container_id)[0]:
                    return None
                raise _CannotEnter(f"the engine published no host port for {port}/tcp")
            host_ports[port] = host_port
        return _Way(strategy, reach.plain_socket, "127.0.0.1", host_ports, None)
    pid = engine.container_pid(container_id)
    if pid is None:
        return None
    # 127.0.0.1 serves 0.0.0.0 and dual-stack [::] listeners alike.
    way = _Way(strategy, reach.netns_socket(pid), "127.0.0.1", {p: p for p in ports}, pid)
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
        # A container that exits at once takes its pid with it: that is its failure. The
        # engine may not have seen the exit yet when its pid is already gone: ask again for
        # a moment before calling the container unreachable.
        if _stops_soon(run, container_id):
            return None
        raise
    return way


def _stops_soon(run: _Run, container_id: str, within_seconds: float = 3.0) -> bool:
    deadline = time.perf_counter() + within_seconds
    while run.engine.container_state(container_id)[0]:
        if time.perf_counter() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _is_container_process(pid: int, container_id: str) -> bool:
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def _verdict(check: HttpCheck, answer: reach.Answer) -> str | None:
    """Why this answer does not pass the check; None when it does."""
    if answer.status is None:
        return f"{check.path}: {_described(answer)}"
    if check.status == "2xx" and not answer.ok:
        return f"{check.path} answered {_described(answer)}"
    if isinstance(check.status, int) and answer.status != check.status:
        return f"{check.path} answered {_described(answer)}, expected {check.status}"
    if check.contains and check.contains not in answer.text:
        shown = answer.text[:120]
        return f"{check.path} answered {shown!r}, expected it to contain {check.contains!r}"
    return None


def _check(run: _Run, container_id: str, way: _Way, started: float) -> SmokeResult:
    """Each check in turn: the first on each port is asked until it passes (the app may
    still be starting), later ones on a ready port once."""
    engine = run.engine
    listening: tuple[Listener, ...] | None = None
    ready_ports: set[int] = set()
    texts: list[str] = []
    ready_seconds: float | None = None
    memory_bytes: int | None = None
    for check in run.plan.spec.checks:
        polled = check.port not in ready_ports
        verdict: str | None = None
        answer = reach.Answer(None, "")
        while True:
            running, _ = engine.container_state(container_id)
            if not running:
                return _failed(
                    run,
                    container_id,
                    _exit_reason(run, container_id),
                    way.strategy,
                    ready_seconds,
                    memory_bytes,
                    texts,
                    listening,
                )
            listening = _listening(way, listening)
            if listening is not None and (local := reach.loopback_only(listening, check.port)):
                # Reachable from inside, never through -p: the image is broken as shipped.
                return _failed(
                    run,
                    container_id,
                    _loopback_reason(local, check.port),
                    way.strategy,
                    ready_seconds,
                    memory_bytes,
                    texts,
                    listening,
                )
            if _port_open(listening, check.port):
                answer = way.ask(check)
                verdict = _verdict(check, answer)
                if verdict is None:
                    break
                if not polled:
                    return _failed(
                        run,
                        container_id,
                        verdict,
                        way.strategy,
                        ready_seconds,
                        memory_bytes,
                        texts,
                        listening,
                    )
            if time.perf_counter() - started > run.ready_timeout_seconds:
                reason = _not_ready_reason(run, way, listening, check, answer, verdict)
                return _failed(
                    run,
                    container_id,
                    reason,
                    way.strategy,
                    ready_seconds,
                    memory_bytes,
                    texts,
                    listening,
                )
            time.sleep(run.poll_interval_seconds)
        ready_ports.add(check.port)
        texts.append(answer.text)
        if ready_seconds is None:
            ready_seconds = time.perf_counter() - started
            memory_bytes = engine.container_memory_bytes(container_id)
    return SmokeResult(
        ok=True,
        ready_seconds=ready_seconds,
        memory_bytes=memory_bytes,
        health=texts[0][:200] if texts else None,
        prediction=texts[-1][:200] if len(texts) > 1 else None,
        listening=_named(listening),
        reached_by=way.strategy,
    )


# Without asking: a command, or a container that must keep running ------------------------------


def _without_network(run: _Run, reach_facts: Reach | None) -> SmokeResult:
    try:
        container_id = _start(run)
    except BenchError as error:
        return SmokeResult(ok=False, reason=error.message)
    try:
        if run.plan.kind == "command":
            return _command(run, container_id)
        return _stays_up(run, container_id, reach_facts)
    finally:
        _removed(run, container_id)


def _command(run: _Run, container_id: str) -> SmokeResult:
    spec = run.plan.spec
    started = time.perf_counter()
    exit_code = _exited_within(run, container_id, run.ready_timeout_seconds)
    if exit_code is None:
        return _failed(
            run,
            container_id,
            f"still running after {run.ready_timeout_seconds:g} s; a command check expects "
            'its entrypoint to exit (for a service use kind = "http" or "stays-up")',
        )
    seconds = time.perf_counter() - started
    output = "\n".join(run.engine.container_logs(container_id, tail=500))
    if exit_code != spec.exit_code:
        reason = f"exited with code {exit_code}, expected {spec.exit_code}: {_last(output)}"
        return _failed(run, container_id, reason)
    if spec.output and spec.output not in output:
        reason = f"its output does not contain {spec.output!r}: {_last(output)}"
        return _failed(run, container_id, reason)
    return SmokeResult(ok=True, ready_seconds=seconds, health=_last(output))


def _stays_up(run: _Run, container_id: str, reach_facts: Reach | None) -> SmokeResult:
    seconds = run.plan.spec.seconds
    exit_code = _exited_within(run, container_id, seconds)
    if exit_code is not None:
        if run.plan.kind == "runs" and exit_code == 0:
            return SmokeResult(ok=True, health=_last("\n".join(_logs(run, container_id))))
        return _failed(run, container_id, _exit_reason(run, container_id))
    memory_bytes = run.engine.container_memory_bytes(container_id)
    listening = _seen_listening(run, container_id, reach_facts)
    local = tuple(listener for listener in listening or () if listener.loopback)
    if listening and len(local) == len(listening):
        # It keeps running, but nothing outside the container could ever reach it.
        reason = _loopback_reason(local, local[0].port)
        return _failed(run, container_id, reason, memory_bytes=memory_bytes, listening=listening)
    if run.loopback:
        reason = f"stayed up {seconds:g} s, but {_loopback_command_reason(run.loopback)}"
        return _failed(run, container_id, reason, memory_bytes=memory_bytes, listening=listening)
    return SmokeResult(ok=True, memory_bytes=memory_bytes, listening=_named(listening))


def _exited_within(run: _Run, container_id: str, seconds: float) -> int | None:
    """The exit code if the container stops within `seconds`, else None (still running)."""
    deadline = time.perf_counter() + seconds
    while True:
        running, exit_code = run.engine.container_state(container_id)
        if not running:
            return exit_code
        if time.perf_counter() >= deadline:
            return None
        time.sleep(min(run.poll_interval_seconds, max(0.0, deadline - time.perf_counter())))


def _seen_listening(
    run: _Run, container_id: str, reach_facts: Reach | None
) -> tuple[Listener, ...] | None:
    """What a running container listens on, where this host can see it; else None."""
    try:
        if "netns" not in reach.strategies(reach_facts or engine_reach(run.engine)):
            return None
        pid = run.engine.container_pid(container_id)
        if pid is None or not _is_container_process(pid, container_id):
            return None
        return reach.listeners_of(pid)
    except BenchError:
        return None


# Reasons ---------------------------------------------------------------------------------------


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
    run: _Run,
    way: _Way,
    listening: tuple[Listener, ...] | None,
    check: HttpCheck,
    answer: reach.Answer,
    verdict: str | None,
) -> str:
    reason = f"not healthy after {run.ready_timeout_seconds:.0f} s"
    if listening is not None and not _port_open(listening, check.port):
        elsewhere = ", ".join(map(str, listening))
        return f"{reason}: nothing listens on port {check.port}" + (
            f" (listening: {elsewhere})" if elsewhere else ""
        )
    if answer.status is not None and verdict is not None:
        return f"{reason}: {verdict}"
    if way.strategy == "published-port":
        # From outside, an app bound to 127.0.0.1 looks just like one that never started.
        return (
            f"{reason} through 127.0.0.1:{way.ports[check.port]} (an app listening only on "
            "127.0.0.1 inside the container is unreachable this way: bind 0.0.0.0)"
        )
    return f"{reason}: {verdict}" if answer.text and verdict else reason


def _exit_reason(run: _Run, container_id: str) -> str:
    """ "container exited with code 1: <its last log line>" (a missing setting, a crash)."""
    _, exit_code = run.engine.container_state(container_id)
    logs = _logs(run, container_id)
    last = _last("\n".join(logs)) if logs else ""
    return f"container exited with code {exit_code}" + (f": {last}" if last else "")


def _logs(run: _Run, container_id: str) -> tuple[str, ...]:
    return run.engine.container_logs(container_id, tail=15)


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
    run: _Run,
    container_id: str,
    reason: str,
    strategy: SmokeStrategy | None = None,
    ready_seconds: float | None = None,
    memory_bytes: int | None = None,
    texts: list[str] | None = None,
    listening: tuple[Listener, ...] | None = None,
) -> SmokeResult:
    return SmokeResult(
        ok=False,
        reason=reason,
        ready_seconds=ready_seconds,
        memory_bytes=memory_bytes,
        health=texts[0][:200] if texts else None,
        log_tail=_logs(run, container_id),
        listening=_named(listening),
        reached_by=strategy,
    )
