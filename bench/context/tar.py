"""The build context as tar bytes, made while they are sent.

docker-py's `create_archive` writes the whole context to a temporary file and only then
starts the upload: a 100 MB context is written, read back and sent, one after the other.
The `docker build` CLI streams its tar. So does this: each file is read while the engine
takes the previous one, and the bytes are the same as docker-py's (same order, same
headers, the same extra files at the end).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

# Large enough that a chunk costs far more to send than to hand over, small enough that
# reading and sending overlap.
CHUNK_BYTES = 1 << 20
# Files below this join the current chunk; larger ones go out in chunks of their own.
_JOIN_BELOW_BYTES = 64 << 10
_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE


class ContextReadError(Exception):
    """A context file could not be read, or changed size while being sent.

    Deliberately not an OSError: requests turns any OSError raised while sending a body
    into a ConnectionError, and this is the user's file, not a lost engine.
    """


def tar_stream(
    root: Path, files: Iterable[str], extra_files: Mapping[str, bytes] | None = None
) -> Iterator[bytes]:
    """Tar bytes of `files` (paths relative to `root`), then `extra_files`, which replace
    context files of the same name."""
    extra = dict(extra_files or {})
    # A TarFile only for its header logic: owner names, link types, hard links seen.
    headers = tarfile.TarFile(fileobj=io.BytesIO(), mode="w")
    pending = bytearray()
    sent_bytes = 0
    for name in files:
        if name in extra:
            continue
        full_path = root / name
        try:
            info = headers.gettarinfo(full_path, arcname=name)
        except OSError as error:
            raise ContextReadError(_unreadable(name, error)) from error
        if info is None:  # a socket: the engine could not use it either
            continue
        if info.mtime < 0 or info.mtime > 8**11 - 1:
            info.mtime = int(info.mtime)  # https://bugs.python.org/issue32713
        pending += _header(headers, info)
        if info.isfile() and info.size < _JOIN_BELOW_BYTES:
            pending += b"".join(_read_chunks(full_path, name, info.size)) + _padding(info.size)
        elif info.isfile():
            if pending:
                sent_bytes += len(pending)
                yield bytes(pending)
                pending.clear()
            for chunk in _read_chunks(full_path, name, info.size):
                sent_bytes += len(chunk)
                yield chunk
            pending += _padding(info.size)
        if len(pending) >= CHUNK_BYTES:
            sent_bytes += len(pending)
            yield bytes(pending)
            pending.clear()
    for name, contents in extra.items():
        info = tarfile.TarInfo(name)
        info.size = len(contents)
        pending += _header(headers, info) + contents + _padding(info.size)
    pending += bytes(2 * _BLOCK)  # the end-of-archive marker
    # tarfile pads an archive to whole records: the same bytes as docker-py's.
    pending += bytes(-(sent_bytes + len(pending)) % _RECORD)
    yield bytes(pending)


def _header(headers: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    return info.tobuf(headers.format, headers.encoding, headers.errors)


def _padding(size: int) -> bytes:
    return bytes(-size % _BLOCK)


def _read_chunks(full_path: Path, name: str, size: int) -> Iterator[bytes]:
    try:
        file = full_path.open("rb")  # closed by the with below, across yields
    except OSError as error:
        raise ContextReadError(_unreadable(name, error)) from error
    with file:
        left = size
        while left:
            try:
                chunk = file.read(min(left, CHUNK_BYTES))
            except OSError as error:
                raise ContextReadError(_unreadable(name, error)) from error
            if not chunk:
                raise ContextReadError(_changed(name))
            left -= len(chunk)
            yield chunk


def _unreadable(name: str, error: OSError) -> str:
    return f"cannot read {name!r} in the build context: {error.strerror or error}"


def _changed(name: str) -> str:
    return f"{name!r} in the build context changed size while it was being sent"
