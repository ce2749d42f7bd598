"""The smoke test without Docker: /proc/net/tcp parsing, the choice of a way in, the verdicts.

A fake engine stands in for Docker; the app is a real HTTP server on this host's 127.0.0.1,
which both ways reach when the socket maker is our own (no setns: unit tests need no root).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.errors import BenchError
from bench.models import SmokeResult
from bench.run import reach, smoke
from bench.run.reach import Listener, Reach
from bench.run.smoke import SmokeSpec

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

    def __init__(self, published: int | None = None, exit_code: int | None = None) -> None:
        self.published = published
        self.exit_code = exit_code
        self.started: list[tuple[str, int | None]] = []
        self.removed: list[str] = []

    def start_container(
        self,
        image: str,
        labels: dict[str, str],
        network_mode: str = "none",
        publish_port: int | None = None,
    ) -> str:
        self.started.append((network_mode, publish_port))
        return f"c{len(self.started)}"

    def container_state(self, container_id: str) -> tuple[bool, int | None]:
        return self.exit_code is None, self.exit_code

    def container_pid(self, container_id: str) -> int | None:
        return 4242 if self.exit_code is None else None

    def published_port(self, container_id: str, port: int) -> int | None:
        return self.published

    def container_memory_bytes(self, container_id: str) -> int | None:
        return 5_000_000

    def container_logs(self, container_id: str, tail: int = 20) -> tuple[str, ...]:
        return ("last line",)

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


def _run(engine: FakeEngine, port: int, how: Reach = LAB, timeout: float = 2.0) -> SmokeResult:
    spec = SmokeSpec(port=port, ready_timeout_seconds=timeout, poll_interval_seconds=0.01)
    return smoke.smoke_test(engine, "img", {}, spec, reach_facts=how)  # type: ignore[arg-type]


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
    assert "expected label 'setosa'" in result.reason
    assert result.ready_seconds is not None and result.health == '{"status": "ok"}'


def test_an_exited_container_reports_its_code(seen: list[tuple[Listener, ...]]) -> None:
    result = _run(FakeEngine(exit_code=3), 8000)
    assert result.reason == "container exited with code 3"
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
    spec = SmokeSpec(
        port=app_port, health_path="/ready", ready_timeout_seconds=0.05, poll_interval_seconds=0.01
    )
    result = smoke.smoke_test(FakeEngine(), "img", {}, spec, reach_facts=LAB)  # type: ignore[arg-type]
    assert result.reason == 'not healthy after 0 s: /ready answered HTTP 404: {"status": "ok"}'


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
    assert result.reason == "container exited with code 3"
    assert result.log_tail == ("last line",)
