"""Reading an HTTP body from its socket: chunked framing, lengths, a thread that drains."""

from __future__ import annotations

import socket
import sys
import threading
import time

import pytest

from bench.engine.httpbody import READING_SWITCH_SECONDS, dechunked, limited, socket_blocks


def _chunked(parts: list[bytes], extension: bytes = b"") -> bytes:
    framed = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in parts)
    return framed + b"0\r\n\r\n"


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("block_size", [1, 2, 3, 7, 64, 10_000])
def test_dechunked_whatever_the_block_boundaries(block_size: int) -> None:
    parts = [b"a" * 10, b"0123456789abcdef" * 3, b"z"]
    wire = _chunked(parts, b";name=value") + b"trailing bytes are never read"
    body = b"".join(bytes(view) for view in dechunked(_split(wire, block_size)))
    assert body == b"".join(parts)


def test_a_body_cut_short_is_an_error() -> None:
    wire = _chunked([b"x" * 100])[:50]
    with pytest.raises(EOFError):
        list(dechunked([wire]))


def test_limited() -> None:
    assert b"".join(bytes(v) for v in limited([b"abc", b"defg", b"hij"], 5)) == b"abcde"
    with pytest.raises(EOFError):
        list(limited([b"abc"], 5))


def test_socket_blocks_reads_all_then_stops() -> None:
    ours, theirs = socket.socketpair()
    payload = bytes(range(256)) * 40_000  # 10 MB: more than two 4 MiB blocks

    def send() -> None:
        theirs.sendall(payload)
        theirs.close()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        received = b"".join(socket_blocks(ours, b"head:"))
    finally:
        sender.join()
        ours.close()
    assert received == b"head:" + payload


def test_socket_blocks_can_be_abandoned() -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(b"x" * 100)
    reader = socket_blocks(ours, b"first")
    assert next(reader) == b"first"
    reader.close()  # the consumer gives up: the thread is told to stop
    theirs.close()  # as closing the response does, this ends the thread's recv
    for _ in range(200):
        if not any(t.name == "http-body-reader" for t in threading.enumerate()):
            break
        time.sleep(0.01)
    else:
        pytest.fail("the reader thread did not stop")
    ours.close()


def test_handoffs_are_quick_while_bodies_are_read_and_restored_after() -> None:
    before = sys.getswitchinterval()
    first_pair, second_pair = socket.socketpair(), socket.socketpair()
    for _, theirs in (first_pair, second_pair):
        theirs.sendall(b"x")
        theirs.close()
    first = socket_blocks(first_pair[0], b"a")
    second = socket_blocks(second_pair[0], b"b")
    assert next(first) == b"a" and next(second) == b"b"
    assert sys.getswitchinterval() == pytest.approx(READING_SWITCH_SECONDS)
    assert b"".join(first) == b"x"  # one body ends, the other is still being read
    assert sys.getswitchinterval() == pytest.approx(READING_SWITCH_SECONDS)
    assert b"".join(second) == b"x"
    assert sys.getswitchinterval() == before
    first_pair[0].close()
    second_pair[0].close()
