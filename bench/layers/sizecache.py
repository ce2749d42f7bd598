"""Compressed sizes of layers seen before, so a base layer is gzipped once, not every run.

The compressed size is the costliest part of a run's untimed work (a gzip pass over every
layer), and most bytes of the variants are base layers that do not change between runs:
python:3.11's 718 MB stand-in, the slim base under three variants. A layer cannot be named
before it is read (Engine 20.10 saves layers under ids that are not their digests, in no
useful order), so it is recognised by a fingerprint: its tar size and the SHA-256 of its first
MiB, taken before any of it is compressed. A known fingerprint skips the compressor; the
whole layer is still hashed, and the size is used only if the digest (the layer's diff id)
is the one recorded with it. Otherwise the layer's compressed size is unknown rather than
guessed. New layers are recorded with their digest after they are compressed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Protocol

from bench import storage

HEAD_BYTES = 1 << 20
# The compressor and its settings: sizes from another method are not reused.
METHOD = "zlib-ng level 6, 1 MiB blocks primed with 32 KiB"
MAX_ENTRIES = 2000  # a few hundred runs of new layers; the oldest go first


class Sizer(Protocol):
    def feed(self, data: bytes | bytearray | memoryview) -> None: ...

    def finish(self) -> int | None: ...


class SizeCache:
    """fingerprint -> (diff id, compressed bytes), kept in a JSON file of ours."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, tuple[str, int]] = {}
        self._changed = False
        self._by_diff_id: dict[str, int] | None = None
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
                if data.get("method") == METHOD:
                    self._entries = {
                        str(key): (str(value[0]), int(value[1]))
                        for key, value in data["layers"].items()
                    }
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                self._entries = {}  # a damaged cache is an empty one; it is rewritten

    def lookup(self, fingerprint: str) -> tuple[str, int] | None:
        return self._entries.get(fingerprint)

    def by_diff_id(self, diff_id: str) -> int | None:
        """The compressed size recorded for the layer whose digest is `diff_id`, if any: a
        layer read from the engine's storage is known by its digest, not its first MiB."""
        if self._by_diff_id is None:
            self._by_diff_id = dict(self._entries.values())
        return self._by_diff_id.get(diff_id)

    def record(self, fingerprint: str, diff_id: str, compressed_bytes: int) -> None:
        self._by_diff_id = None
        self._entries.pop(fingerprint, None)
        self._entries[fingerprint] = (diff_id, compressed_bytes)
        while len(self._entries) > MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
        self._changed = True

    def save(self) -> None:
        if self.path is None or not self._changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"method": METHOD, "layers": {k: list(v) for k, v in self._entries.items()}}
        storage.write_text_atomic(self.path, json.dumps(data) + "\n")
        self._changed = False


class CachedSizer:
    """One layer: the compressor's size, or the recorded one when the layer is known."""

    def __init__(self, cache: SizeCache, layer_bytes: int, compressor: Sizer) -> None:
        self._cache = cache
        self._layer_bytes = layer_bytes
        self._compressor = compressor
        self._head = bytearray()
        self._digest = hashlib.sha256()
        self._fingerprint: str | None = None
        self._known: tuple[str, int] | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._digest.update(data)
        if self._fingerprint is None:
            self._head += data
            if len(self._head) >= HEAD_BYTES:
                self._decide()
        elif self._known is None:
            self._compressor.feed(data)

    def _decide(self) -> None:
        head = bytes(self._head[:HEAD_BYTES])
        self._fingerprint = f"{self._layer_bytes}:{hashlib.sha256(head).hexdigest()}"
        self._known = self._cache.lookup(self._fingerprint)
        if self._known is None:
            self._compressor.feed(self._head)
        self._head = bytearray()

    def finish(self) -> int | None:
        if self._fingerprint is None:
            self._decide()
        assert self._fingerprint is not None
        diff_id = f"sha256:{self._digest.hexdigest()}"
        if self._known is not None:
            recorded_diff_id, compressed_bytes = self._known
            return compressed_bytes if recorded_diff_id == diff_id else None
        compressed = self._compressor.finish()
        if compressed is not None:
            self._cache.record(self._fingerprint, diff_id, compressed)
        return compressed
