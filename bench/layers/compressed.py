"""Compressed image size: gzip each layer of a streamed `docker save`, as a push would.

The pass itself lives in bench/layers/savestream.py, where the layer analysis shares it (one read
of the image gives both); this is the entry point for the size alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from bench.layers.savestream import read_save_stream


def compressed_bytes(
    save_stream: Iterable[bytes | memoryview], level: int = 6, workers: int = 2
) -> int:
    """Sum of the gzip-compressed sizes of the image's distinct layers; reads the stream
    once, holding one chunk (and a few 1 MiB blocks being compressed) at a time."""
    saved = read_save_stream(save_stream, compress=True, level=level, workers=workers)
    distinct = {id(layer): layer.compressed_bytes or 0 for layer in saved.layers}
    return sum(distinct.values())
