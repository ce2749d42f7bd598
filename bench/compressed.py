"""Compressed image size: gzip each layer of a streamed `docker save`, as a push would."""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterable, Iterator


class _ChunkReader:
    """A file-like view over an iterator of byte chunks, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _is_layer(name: str) -> bool:
    # Engine 20.10 writes <id>/layer.tar; newer engines write OCI blobs/sha256/<digest>.
    return name.endswith("/layer.tar") or name.startswith("blobs/sha256/")


def compressed_bytes(save_stream: Iterable[bytes], level: int = 6) -> int:
    """Sum of gzip-compressed layer sizes; reads the stream once, holds one chunk at a time."""
    total = 0
    seen: set[str] = set()
    with tarfile.open(fileobj=_ChunkReader(save_stream), mode="r|") as archive:  # type: ignore[call-overload]
        for member in archive:
            if not member.isfile() or not _is_layer(member.name) or member.name in seen:
                continue
            seen.add(member.name)
            source = archive.extractfile(member)
            if source is None:
                continue
            compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip container
            while chunk := source.read(1 << 20):
                total += len(compressor.compress(chunk))
            total += len(compressor.flush())
    return total
