"""How the smoke test reaches an app in a container from outside it: no exec, no tools in the image.

Two ways. "netns": the engine is local and we are root, so the container's main process is a
process of this host; a socket made inside its network namespace reaches 127.0.0.1 there,
even with --network none, and its /proc/<pid>/net/tcp shows what the app listens on.
"published-port": anywhere else, the container joins the engine's bridge network with its port
published on 127.0.0.1 of the engine's host, which must then be this host.
"""

from __future__ import annotations

import ctypes
import http.client
import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from bench.errors import BenchError

Strategy = Literal["netns", "published-port"]

# Socket states in /proc/net/tcp (include/net/tcp_states.h): only listeners matter here.
_TCP_LISTEN = "0A"
_CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket: its local address (v4 or v6) and port."""

    address: str
    port: int

    @property
    def loopback(self) -> bool:
        ip = ipaddress.ip_address(self.address)
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        return (mapped or ip).is_loopback

    def __str__(self) -> str:
        if ":" in self.address:
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"


def parse_proc_net_tcp(text: str) -> tuple[Listener, ...]:
    """The listening sockets in the text of /proc/<pid>/net/tcp or tcp6."""
    found: list[Listener] = []
    for line in text.splitlines()[1:]:  # the first line is the column header
        fields = line.split()
        if len(fields) < 4 or fields[3] != _TCP_LISTEN:
            continue
        hex_address, _, hex_port = fields[1].partition(":")
        found.append(Listener(_address(hex_address), int(hex_port, 16)))
    return tuple(found)


def _address(hex_address: str) -> str:
    # The kernel prints each 32-bit word of the (network-order) address as a host-order
    # integer, so each word's bytes come back in this machine's order.
    words = [hex_address[i : i + 8] for i in range(0, len(hex_address), 8)]
    packed = b"".join(int(word, 16).to_bytes(4, sys.byteorder) for word in words)
    return str(ipaddress.ip_address(packed))


def listeners_of(pid: int) -> tuple[Listener, ...]:
    """What listens in the network namespace of host process `pid` (v4, then v6)."""
    found: list[Listener] = []
    for name in ("tcp", "tcp6"):
        try:
            text = Path(f"/proc/{pid}/net/{name}").read_text()
        except FileNotFoundError:
            continue  # no IPv6 in that kernel; a process gone is seen by its container state
        except OSError as error:
            raise BenchError(f"cannot read /proc/{pid}/net/{name}: {error}") from error
        found.extend(parse_proc_net_tcp(text))
    return tuple(found)


def loopback_only(listening: tuple[Listener, ...], port: int) -> tuple[Listener, ...]:
    """The sockets on `port` when every one of them is loopback (unreachable through -p)."""
    on_port = tuple(listener for listener in listening if listener.port == port)
    return on_port if on_port and all(listener.loopback for listener in on_port) else ()


# Choosing the way in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What decides how an app in a container can be reached from here."""

    docker_host: str  # as the engine was addressed; "" for the default socket
    operating_system: str  # the engine's, as `docker info` reports it
    root: bool
    can_setns: bool  # Linux, with /proc and setns(2) in its C library
    has_bridge: bool  # the engine has a bridge network for published ports


def host_reach(docker_host: str, operating_system: str, has_bridge: bool) -> Reach:
    """This process's side of a Reach; the engine's side comes from the engine."""
    return Reach(
        docker_host=docker_host,
        operating_system=operating_system,
        root=os.geteuid() == 0,
        can_setns=Path("/proc/self/ns/net").exists() and hasattr(_libc(), "setns"),
        has_bridge=has_bridge,
    )


def strategies(reach: Reach) -> tuple[Strategy, ...]:
    """The ways to try, best first; a BenchError naming why when there is none."""
    chosen: list[Strategy] = []
    local_socket = not reach.docker_host or reach.docker_host.startswith("unix://")
    # Docker Desktop answers on a local socket, but its containers run in a VM: their pids
    # are not this host's.
    in_vm = "docker desktop" in reach.operating_system.lower()
    if local_socket and not in_vm and reach.root and reach.can_setns:
        chosen.append("netns")
    if reach.has_bridge and (local_socket or _loopback_host(reach.docker_host)):
        chosen.append("published-port")
    if chosen:
        return tuple(chosen)
    missing: list[str] = []
    if not local_socket:
        missing.append(f"the engine at {reach.docker_host} is not on this host")
    elif in_vm:
        missing.append("the engine runs its containers in a VM (Docker Desktop)")
    elif not reach.root:
        missing.append("entering a container's network namespace needs root")
    elif not reach.can_setns:
        missing.append("this system has no setns(2) and /proc")
    missing.append(
        "it has no bridge network to publish a port on"
        if not reach.has_bridge
        else "its published ports are not on this host's loopback"
    )
    raise BenchError("cannot reach the app from outside its container: " + "; ".join(missing))


def _loopback_host(docker_host: str) -> bool:
    host = urlsplit(docker_host).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Asking over HTTP ------------------------------------------------------------------------------

SocketMaker = Callable[[socket.AddressFamily], socket.socket]


def plain_socket(family: socket.AddressFamily) -> socket.socket:
    """A socket in our own network namespace (the published-port way)."""
    return socket.socket(family, socket.SOCK_STREAM)


def netns_socket(pid: int) -> SocketMaker:
    """Sockets made inside the network namespace of host process `pid`."""
    # A socket belongs to the namespace it was made in for its whole life, so only its
    # creation happens in there, in a thread of its own that is then done: setns(2) moves
    # the calling thread only, and no other thread of ours ever leaves our namespace.

    def make(family: socket.AddressFamily) -> socket.socket:
        made: list[socket.socket] = []
        failed: list[BaseException] = []

        def inside() -> None:
            try:
                made.append(_socket_inside(pid, family))
            except BaseException as error:  # handed to the caller's thread
                failed.append(error)

        thread = threading.Thread(target=inside, name=f"netns-{pid}", daemon=True)
        thread.start()
        thread.join()
        if failed:
            raise failed[0]
        return made[0]

    return make


def _socket_inside(pid: int, family: socket.AddressFamily) -> socket.socket:
    libc = _libc()
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(target, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the container's network")
        finally:
            os.close(target)
        try:
            return socket.socket(family, socket.SOCK_STREAM)
        finally:
            if libc.setns(own, _CLONE_NEWNET) != 0:
                # This thread ends now either way; say so rather than hide it.
                raise OSError(ctypes.get_errno(), "setns back to our network")
    finally:
        os.close(own)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


class _Connection(http.client.HTTPConnection):
    """An HTTP connection whose socket comes from a SocketMaker (maybe another namespace)."""

    def __init__(self, make: SocketMaker, host: str, port: int, timeout_seconds: float) -> None:
        super().__init__(host, port, timeout=timeout_seconds)
        self._make = make

    def connect(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = self._make(family)
        try:
            sock.settimeout(self.timeout)
            sock.connect((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True)
class Answer:
    """What one request got: the HTTP status and body, or no status and what went wrong."""

    status: int | None
    text: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def ask(
    make: SocketMaker,
    host: str,
    port: int,
    path: str,
    body: str = "",
    method: str | None = None,
    timeout_seconds: float = 5.0,
) -> Answer:
    """`method` `path` (default: GET, or POST when there is a body), `body` sent as JSON."""
    connection = _Connection(make, host, port, timeout_seconds)
    verb = method or ("POST" if body else "GET")
    try:
        if body:
            connection.request(
                verb, path, body.encode(), headers={"Content-Type": "application/json"}
            )
        else:
            connection.request(verb, path)
        response = connection.getresponse()
        text = response.read().decode(errors="replace").strip()
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    return Answer(response.status, text)
