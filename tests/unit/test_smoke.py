"""The smoke test without Docker: /proc/net/tcp parsing, the choice of a way in, the verdicts
of each smoke kind, the check derived from an image's config, loopback binds in a command.

A fake engine stands in for Docker; the app is a real HTTP server on this host's 127.0.0.1,
which both ways reach when the socket maker is our own (no setns: unit tests need no root).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.errors import BenchError
from bench.manifest import HttpCheck, SmokeSpec
from bench.models import ImageConfig, SmokeResult
from bench.run import reach, smoke
from bench.run.reach import Listener, Reach

# From a real /proc/net/tcp: a listener on 127.0.0.1:8000, one on 0.0.0.0:8001, and an
# established connection (state 01) from 127.0.0.1:8000 that must not count.
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0
   1: 00000000:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0
   2: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0
"""
# [::]:8000 listening, [::1]:8002 listening, ::ffff:127.0.0.1:8003 listening, and [::1]:8000
# in TIME_WAIT (06).
TCP6 = """\
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 0
   1: 00000000000000000000000001000000:1F42 00000000000000000000000000000000:0000 0A 0
   2: 0000000000000000FFFF00000100007F:1F43 00000000000000000000000000000000:0000 0A 0
   3: 00000000000000000000000001000000:1F40 00000000000000000000000001000000:9C40 06 0
"""


def test_ipv4_listeners_are_read_and_other_states_skipped() -> None:
    assert reach.parse_proc_net_tcp(TCP) == (
        Listener("127.0.0.1", 8000),
        Listener("0.0.0.0", 8001),
    )


def test_ipv6_addresses_are_four_host_order_words() -> None:
    listeners = reach.parse_proc_net_tcp(TCP6)
    assert [str(listener) for listener in listeners] == [
        "[::]:8000",
        "[::1]:8002",
        f"[{ipaddress.ip_address('::ffff:127.0.0.1')}]:8003",  # as this Python spells it
    ]
    assert [listener.loopback for listener in listeners] == [False, True, True]


def test_a_header_alone_is_no_listener() -> None:
    assert reach.parse_proc_net_tcp(TCP.splitlines()[0]) == ()


def test_loopback_only_when_every_listener_on_the_port_is_loopback() -> None:
    local = Listener("127.0.0.1", 8000)
    assert reach.loopback_only((local, Listener("0.0.0.0", 8001)), 8000) == (local,)
    assert reach.loopback_only((local, Listener("::1", 8000)), 8000) == (
        local,
        Listener("::1", 8000),
    )
    # Also on all addresses (a [::] socket beside a 127.0.0.1 one): reachable.
    assert reach.loopback_only((local, Listener("::", 8000)), 8000) == ()
    assert reach.loopback_only((Listener("0.0.0.0", 8000),), 8000) == ()
    assert reach.loopback_only((), 8000) == ()


def test_listeners_of_this_process_include_a_socket_it_listens_on() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        port = server.server_address[1]
        assert Listener("127.0.0.1", port) in reach.listeners_of(os.getpid())


# Choosing the way in -------------------------------------------------------------------------

LAB = Reach(
    docker_host="unix:///root/lab/docker.sock",
    operating_system="Debian GNU/Linux 12 (bookworm)",
    root=True,
    can_setns=True,
    has_bridge=False,
)


def test_the_lab_enters_the_network_namespace() -> None:
    assert reach.strategies(LAB) == ("netns",)
    assert reach.strategies(Reach("", "Ubuntu", True, True, False)) == ("netns",)


def test_a_bridge_adds_published_ports_as_the_fallback() -> None:
    assert reach.strategies(_with(has_bridge=True)) == ("netns", "published-port")


@pytest.mark.parametrize(
    "changes",
    [
        {"root": False},
        {"can_setns": False},
        {"operating_system": "Docker Desktop"},
        {"docker_host": "tcp://127.0.0.1:2375"},
        {"docker_host": "tcp://localhost:2375"},
    ],
)
def test_published_ports_where_the_namespace_is_out_of_reach(changes: dict[str, object]) -> None:
    assert reach.strategies(_with(has_bridge=True, **changes)) == ("published-port",)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"root": False},
            "cannot reach the app from outside its container: entering a container's network "
            "namespace needs root; it has no bridge network to publish a port on",
        ),
        (
            {"docker_host": "ssh://builder@ci.example"},
            "the engine at ssh://builder@ci.example is not on this host; it has no bridge",
        ),
        (
            {"docker_host": "tcp://ci.example:2376", "has_bridge": True},
            "not on this host; its published ports are not on this host's loopback",
        ),
        ({"operating_system": "Docker Desktop"}, "runs its containers in a VM (Docker Desktop)"),
    ],
)
def test_no_way_in_says_why(changes: dict[str, object], expected: str) -> None:
    with pytest.raises(BenchError) as caught:
        reach.strategies(_with(**changes))
    assert expected in caught.value.message


def _with(**changes: object) -> Reach:
    return replace(LAB, **changes)  # type: ignore[arg-type]


# The smoke test over a fake engine -----------------------------------------------------------


class _App(BaseHTTPRequestHandler):
    label = "setosa"

    def do_GET(self) -> None:
        self._send(200 if self.path == "/health" else 404, {"status": "ok"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(200, {"label": self.label})

    def _send(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_port() -> Iterator[int]:
    with ThreadingHTTPServer(("127.0.0.1", 0), _App) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()


class FakeEngine:
    """The container-side calls smoke_test makes, answered from plain values."""

    def __init__(
        self,
        published: int | None = None,
        exit_code: int | None = None,
        config: ImageConfig | None = None,
        logs: tuple[str, ...] = ("last line",),
        exits_after_seconds: float = 0.0,
    ) -> None:
        self.published = published
        self.exit_code = exit_code
        self.config = config or ImageConfig()
        self.logs = logs
        self.exits_after_seconds = exits_after_seconds
        self.started: list[tuple[str, int | None]] = []
        self.commands: list[tuple[tuple[str, ...] | None, dict[str, str]]] = []
        self.removed: list[str] = []
        self._started_at = 0.0

    def image_config(self, reference: str) -> ImageConfig:
        return self.config

    def start_container(
        self,
        image: str,
        labels: dict[str, str],
        network_mode: str = "none",
        publish_ports: tuple[int, ...] = (),
        command: tuple[str, ...] | None = None,
        environment: dict[str, str] | None = None,
    ) -> str:
        self.started.append((network_mode, publish_ports[0] if publish_ports else None))
        self.commands.append((None if command is None else tuple(command), environment or {}))
        self._started_at = time.perf_counter()
        return f"c{len(self.started)}"

    def container_state(self, container_id: str) -> tuple[bool, int | None]:
        if self.exit_code is None:
            return True, None
        if time.perf_counter() - self._started_at < self.exits_after_seconds:
            return True, None
        return False, self.exit_code

    def container_pid(self, container_id: str) -> int | None:
        return 4242 if self.exit_code is None else None

    def published_port(self, container_id: str, port: int) -> int | None:
        return self.published

    def container_memory_bytes(self, container_id: str) -> int | None:
        return 5_000_000

    def container_logs(self, container_id: str, tail: int = 20) -> tuple[str, ...]:
        return self.logs

    def remove_container(self, container_id: str) -> None:
        self.removed.append(container_id)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Listener, ...]]:
    """What /proc shows for the fake pid (the last entry repeats); our own sockets ask."""
    shown: list[tuple[Listener, ...]] = []

    def listeners_of(pid: int) -> tuple[Listener, ...]:
        assert pid == 4242
        return shown.pop(0) if len(shown) > 1 else shown[0]

    monkeypatch.setattr(reach, "listeners_of", listeners_of)
    monkeypatch.setattr(reach, "netns_socket", lambda pid: reach.plain_socket)
    monkeypatch.setattr(smoke, "_is_container_process", lambda pid, container_id: True)
    return shown


SAMPLE_BODY = json.dumps({"features": [5.1, 3.5, 1.4, 0.2]})


def _sample_spec(port: int, health_path: str = "/health") -> SmokeSpec:
    """The sample app's check, as variants/variants.toml states it."""
    return SmokeSpec(
        kind="http",
        checks=(
            HttpCheck(port=port, path=health_path, status=200),
            HttpCheck(port=port, path="/predict", body=SAMPLE_BODY, contains='"label": "setosa"'),
        ),
    )


def _run(
    engine: FakeEngine,
    port: int,
    how: Reach = LAB,
    timeout: float = 2.0,
    spec: SmokeSpec | None = None,
) -> SmokeResult:
    return smoke.smoke_test(
        engine,  # type: ignore[arg-type]
        "img",
        {},
        spec or _sample_spec(port),
        reach_facts=how,
        ready_timeout_seconds=timeout,
        poll_interval_seconds=0.01,
    )


def test_netns_waits_for_the_port_then_asks(
    seen: list[tuple[Listener, ...]], app_port: int
) -> None:
    seen.extend([(), (Listener("0.0.0.0", 9),), (Listener("0.0.0.0", app_port),)])
    engine = FakeEngine()
    result = _run(engine, app_port)
    assert result.ok, result.reason
    assert result.reached_by == "netns"
    assert result.listening == (f"0.0.0.0:{app_port}",)
    assert result.prediction == '{"label": "setosa"}'
    assert result.memory_bytes == 5_000_000 and result.ready_seconds is not None
    assert engine.started == [("none", None)] and engine.removed == ["c1"]
    assert result.checked == (
        f"http GET :{app_port}/health -> 200, POST :{app_port}/predict -> 2xx "
        """containing '"label": "setosa"'"""
    )


def test_an_app_on_loopback_only_fails_naming_the_fix(
    seen: list[tuple[Listener, ...]], app_port: int
) -> None:
    seen.append((Listener("127.0.0.1", app_port), Listener("0.0.0.0", 9)))
    result = _run(FakeEngine(), app_port)
    assert not result.ok
    assert result.reason == (
        f"the app listens on port {app_port} only on loopback (127.0.0.1:{app_port}): "
        f"unreachable through a published port (-p {app_port}:{app_port}); bind 0.0.0.0 "
        "instead (for uvicorn: --host 0.0.0.0)"
    )
    assert result.listening == (f"127.0.0.1:{app_port}", "0.0.0.0:9")
    assert result.log_tail == ("last line",)


def test_a_timeout_says_nothing_listens_on_the_port(seen: list[tuple[Listener, ...]]) -> None:
    seen.append((Listener("0.0.0.0", 5000),))
    result = _run(FakeEngine(), 8000, timeout=0.05)
    assert (
        result.reason
        == "not healthy after 0 s: nothing listens on port 8000 (listening: 0.0.0.0:5000)"
    )


def test_a_wrong_label_fails_with_the_answer(
    seen: list[tuple[Listener, ...]], app_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen.append((Listener("::", app_port),))
    monkeypatch.setattr(_App, "label", "virginica")
    result = _run(FakeEngine(), app_port)
    assert result.reason is not None and "virginica" in result.reason
    assert """expected it to contain '"label": "setosa"'""" in result.reason
    assert result.ready_seconds is not None and result.health == '{"status": "ok"}'


def test_an_exited_container_reports_its_code(seen: list[tuple[Listener, ...]]) -> None:
    result = _run(FakeEngine(exit_code=3), 8000)
    assert result.reason == "container exited with code 3: last line"
    assert result.reached_by == "netns"


def test_published_port_asks_through_the_host_port(app_port: int) -> None:
    engine = FakeEngine(published=app_port)
    result = _run(engine, 8000, how=_with(root=False, has_bridge=True))
    assert result.ok, result.reason
    assert result.reached_by == "published-port" and result.listening == ()
    assert engine.started == [("bridge", 8000)]


def test_a_pid_not_of_this_host_falls_through_to_published_port(
    monkeypatch: pytest.MonkeyPatch, app_port: int
) -> None:
    monkeypatch.setattr(smoke, "_is_container_process", lambda pid, container_id: False)
    engine = FakeEngine(published=app_port)
    result = _run(engine, 8000, how=_with(has_bridge=True))
    assert result.ok and result.reached_by == "published-port"
    assert engine.started == [("none", None), ("bridge", 8000)]
    assert engine.removed == ["c1", "c2"]


def test_a_pid_not_of_this_host_without_a_bridge_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(smoke, "_is_container_process", lambda pid, container_id: False)
    result = _run(FakeEngine(), 8000)
    assert result.reason == (
        "cannot reach the app from outside its container: netns: the container's pid 4242 "
        "is not a process of this host"
    )


def test_no_way_in_fails_before_starting_anything() -> None:
    engine = FakeEngine()
    result = _run(engine, 8000, how=_with(root=False))
    assert not result.ok and result.reason is not None and "needs root" in result.reason
    assert engine.started == []


def test_a_published_port_timeout_mentions_a_loopback_bind() -> None:
    engine = FakeEngine(published=1)  # nothing answers on port 1
    result = _run(engine, 8000, how=_with(root=False, has_bridge=True), timeout=0.05)
    assert result.reason == (
        "not healthy after 0 s through 127.0.0.1:1 (an app listening only on 127.0.0.1 "
        "inside the container is unreachable this way: bind 0.0.0.0)"
    )


def test_a_health_check_that_answers_an_error_says_what_it_answered(
    seen: list[tuple[Listener, ...]], app_port: int
) -> None:
    seen.append((Listener("0.0.0.0", app_port),))
    result = _run(FakeEngine(), app_port, timeout=0.05, spec=_sample_spec(app_port, "/ready"))
    assert result.reason == (
        'not healthy after 0 s: /ready answered HTTP 404: {"status": "ok"}, expected 200'
    )


def test_a_namespace_that_refuses_entry_is_a_way_that_does_not_work(
    seen: list[tuple[Listener, ...]], monkeypatch: pytest.MonkeyPatch, app_port: int
) -> None:
    def refused(family: socket.AddressFamily) -> socket.socket:
        raise PermissionError(1, "Operation not permitted")

    seen.append(())
    monkeypatch.setattr(reach, "netns_socket", lambda pid: refused)
    engine = FakeEngine(published=app_port)
    result = _run(engine, 8000, how=_with(has_bridge=True))
    assert result.ok and result.reached_by == "published-port"
    alone = _run(FakeEngine(), 8000)
    assert alone.reason == (
        "cannot reach the app from outside its container: netns: cannot enter the container's "
        "network namespace: [Errno 1] Operation not permitted"
    )


def test_a_container_that_exits_at_once_is_an_exit_not_a_way_that_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class ExitsAfterItsPid(FakeEngine):
        def container_state(self, container_id: str) -> tuple[bool, int | None]:
            return False, 3

    # Its pid is already gone when /proc is read.
    monkeypatch.setattr(smoke, "_is_container_process", lambda pid, container_id: False)
    result = _run(ExitsAfterItsPid(), 8000)
    assert result.reason == "container exited with code 3: last line"
    assert result.log_tail == ("last line",)


# The check derived from the image's config ----------------------------------------------------


def test_exposed_ports_give_any_http_answer_on_each() -> None:
    planned = smoke.plan(SmokeSpec(), ImageConfig(exposed_tcp_ports=(8000, 9696)))
    assert planned.kind == "http" and planned.derived
    assert planned.spec.checks == (
        HttpCheck(port=8000, status="any"),
        HttpCheck(port=9696, status="any"),
    )
    assert planned.describe() == (
        "default (EXPOSE): http GET :8000/ -> any answer, GET :9696/ -> any answer"
    )


def test_no_expose_means_exit_0_or_stay_up() -> None:
    planned = smoke.plan(SmokeSpec(env=(("A", "1"),)), ImageConfig(cmd=("python3",)))
    assert planned.kind == "runs" and planned.spec.seconds == smoke.DEFAULT_STAYS_UP_SECONDS
    assert planned.spec.env == (("A", "1"),)
    assert planned.describe() == "default (no EXPOSE): its command exits 0 or stays up 5 s"


def test_a_stated_kind_wins_over_the_image() -> None:
    spec = SmokeSpec(kind="command", args=("--version",), output="1.")
    planned = smoke.plan(spec, ImageConfig(exposed_tcp_ports=(80,)))
    assert planned.kind == "command" and not planned.derived
    assert planned.describe() == "command ['--version'] exits 0 with output containing '1.'"


def test_any_http_answer_passes_the_default(
    seen: list[tuple[Listener, ...]], app_port: int
) -> None:
    seen.append((Listener("0.0.0.0", app_port),))
    engine = FakeEngine(config=ImageConfig(exposed_tcp_ports=(app_port,)))
    result = _run(engine, app_port, spec=SmokeSpec())  # GET / answers 404: alive
    assert result.ok, result.reason
    assert result.checked == f"default (EXPOSE): http GET :{app_port}/ -> any answer"


# Loopback binds read from the command line ----------------------------------------------------

RUNSERVER = "runserver (binds 127.0.0.1 unless given 0.0.0.0:PORT)"


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (("uvicorn", "main:app", "--host", "127.0.0.1"), "--host 127.0.0.1"),
        (("uvicorn", "main:app", "--host", "localhost", "--port", "80"), "--host localhost"),
        (("gunicorn", "--bind", "localhost:8000", "app:app"), "--bind localhost:8000"),
        (("gunicorn", "-b", "127.0.0.1:9696", "app:app"), "-b 127.0.0.1:9696"),
        (("gunicorn", "--bind=127.0.0.1", "app:app"), "--bind=127.0.0.1"),
        (("/bin/sh", "-c", "exec uvicorn app:app --host=127.0.0.1"), "--host=127.0.0.1"),
        (("hypercorn", "--bind", "[::1]:8000", "a:b"), "--bind [::1]:8000"),
        (("flask", "run"), "flask run (binds 127.0.0.1 unless given --host 0.0.0.0)"),
        (
            ("python", "manage.py", "runserver"),
            "runserver (binds 127.0.0.1 unless given 0.0.0.0:PORT)",
        ),
        (
            ("python", "manage.py", "runserver", "8000"),
            "runserver (binds 127.0.0.1 unless given 0.0.0.0:PORT)",
        ),
        (("python", "manage.py", "runserver", "127.0.0.1:8000"), "runserver 127.0.0.1:8000"),
    ],
)
def test_a_loopback_bind_is_read_from_the_command(argv: tuple[str, ...], found: str) -> None:
    assert smoke.loopback_bind(argv) == found


@pytest.mark.parametrize(
    "argv",
    [
        ("uvicorn", "main:app", "--host", "0.0.0.0"),
        ("uvicorn", "main:app", "--host", "127.0.0.10.example"),
        ("gunicorn", "-b", ":8000", "app:app"),
        ("gunicorn", "--bind", "0.0.0.0:9696", "app:app"),
        ("flask", "run", "--host", "0.0.0.0"),
        ("python", "manage.py", "runserver", "0.0.0.0:8000"),
        ("python3",),
        ("curl", "http://localhost:8000/"),
    ],
)
def test_binds_that_reach_outside_are_not_flagged(argv: tuple[str, ...]) -> None:
    assert smoke.loopback_bind(argv) is None


def test_flask_run_host_from_the_environment_is_not_flagged() -> None:
    assert smoke.loopback_bind(("flask", "run"), {"FLASK_RUN_HOST": "0.0.0.0"}) is None


# Command, stays-up, runs and none ----------------------------------------------------------


def _plain(engine: FakeEngine, spec: SmokeSpec, timeout: float = 2.0) -> SmokeResult:
    return smoke.smoke_test(
        engine,  # type: ignore[arg-type]
        "img",
        {},
        spec,
        reach_facts=replace(LAB, root=False),  # no netns: nothing to list, nothing to enter
        ready_timeout_seconds=timeout,
        poll_interval_seconds=0.01,
    )


def test_a_command_check_passes_on_its_exit_code_and_output() -> None:
    engine = FakeEngine(exit_code=0, logs=("usage: tool [-h]", "tool 1.2.3"))
    spec = SmokeSpec(kind="command", args=("--version",), output="1.2.3", env=(("X", "1"),))
    result = _plain(engine, spec)
    assert result.ok, result.reason
    assert engine.commands == [(("--version",), {"X": "1"})]
    assert engine.removed == ["c1"]
    assert result.checked == "command ['--version'] exits 0 with output containing '1.2.3'"


def test_a_command_check_fails_on_another_exit_code_with_the_last_line() -> None:
    engine = FakeEngine(exit_code=2, logs=("usage: tool [-h] FILE", "error: FILE is required"))
    result = _plain(engine, SmokeSpec(kind="command"))
    assert result.reason == "exited with code 2, expected 0: error: FILE is required"
    assert result.log_tail[-1] == "error: FILE is required"


def test_a_command_check_fails_on_missing_output() -> None:
    engine = FakeEngine(exit_code=0, logs=("hello",))
    result = _plain(engine, SmokeSpec(kind="command", output="bye"))
    assert result.reason == "its output does not contain 'bye': hello"


def test_a_command_that_keeps_running_fails_saying_so() -> None:
    result = _plain(FakeEngine(), SmokeSpec(kind="command"), timeout=0.05)
    assert result.reason is not None and result.reason.startswith("still running after 0.05 s")


def test_stays_up_passes_while_running_and_fails_when_it_exits() -> None:
    assert _plain(FakeEngine(), SmokeSpec(kind="stays-up", seconds=0.05)).ok
    engine = FakeEngine(exit_code=1, logs=("KeyError: 'DATABASE_URL'",), exits_after_seconds=0.01)
    result = _plain(engine, SmokeSpec(kind="stays-up", seconds=1))
    assert result.reason == "container exited with code 1: KeyError: 'DATABASE_URL'"


def test_the_default_without_expose_passes_on_exit_0_and_fails_on_others() -> None:
    assert _plain(FakeEngine(exit_code=0), SmokeSpec()).ok
    result = _plain(FakeEngine(exit_code=1, logs=("Error: missing API_KEY",)), SmokeSpec())
    assert result.reason == "container exited with code 1: Error: missing API_KEY"
    assert result.checked == "default (no EXPOSE): its command exits 0 or stays up 5 s"


def test_a_service_that_cannot_start_still_names_its_loopback_bind(
    seen: list[tuple[Listener, ...]],
) -> None:
    seen.append(())
    config = ImageConfig(
        exposed_tcp_ports=(8000,), cmd=("uvicorn", "app:app", "--host", "127.0.0.1")
    )
    engine = FakeEngine(exit_code=1, config=config, logs=("RuntimeError: no SECRET set",))
    result = _run(engine, 8000, spec=SmokeSpec())
    assert result.reason == (
        "container exited with code 1: RuntimeError: no SECRET set; its command binds loopback "
        "only (--host 127.0.0.1): unreachable from outside the container (and through -p); "
        "bind 0.0.0.0 instead"
    )


def test_staying_up_bound_to_loopback_by_its_command_fails() -> None:
    config = ImageConfig(cmd=("gunicorn", "-b", "127.0.0.1:8000", "app:app"))
    result = _plain(FakeEngine(config=config), SmokeSpec(kind="stays-up", seconds=0.02))
    assert result.reason is not None
    assert result.reason.startswith("stayed up 0.02 s, but its command binds loopback only")


def test_staying_up_while_listening_only_on_loopback_fails(
    seen: list[tuple[Listener, ...]],
) -> None:
    seen.append((Listener("127.0.0.1", 5000),))
    result = smoke.smoke_test(
        FakeEngine(),  # type: ignore[arg-type]
        "img",
        {},
        SmokeSpec(kind="stays-up", seconds=0.02),
        reach_facts=LAB,
        poll_interval_seconds=0.01,
    )
    assert result.reason is not None and "only on loopback (127.0.0.1:5000)" in result.reason
    assert result.listening == ("127.0.0.1:5000",)


def test_kind_none_starts_nothing_and_records_why() -> None:
    engine = FakeEngine()
    result = _plain(engine, SmokeSpec(kind="none", reason="needs a GPU"))
    assert result.ok and result.checked == "not run: needs a GPU"
    assert engine.started == []
