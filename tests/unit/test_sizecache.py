"""Known layers skip the compressor, and a recorded size is used only for the same bytes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bench.layers.analysis import analyse_stream
from bench.layers.sizecache import HEAD_BYTES, METHOD, CachedSizer, SizeCache
from tests.unit import scenario
from tests.unit.savetar import LayerSpec, chunks, save_tar


class CountingCompressor:
    """Stands in for the Deflater: counts what it is fed, 'compresses' to a tenth."""

    def __init__(self) -> None:
        self.fed = 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self.fed += len(data)

    def finish(self) -> int:
        return self.fed // 10


def _feed(sizer: CachedSizer, data: bytes, piece: int = 300_000) -> int | None:
    for start in range(0, len(data), piece):
        sizer.feed(data[start : start + piece])
    return sizer.finish()


def test_a_known_layer_is_hashed_not_compressed(tmp_path: Path) -> None:
    data = os.urandom(3 * HEAD_BYTES + 123)
    cache = SizeCache(tmp_path / "sizes.json")
    first = CountingCompressor()
    assert _feed(CachedSizer(cache, len(data), first), data) == len(data) // 10
    assert first.fed == len(data)
    again = CountingCompressor()
    assert _feed(CachedSizer(cache, len(data), again), data) == len(data) // 10
    assert again.fed == 0


def test_same_fingerprint_other_bytes_gives_no_size(tmp_path: Path) -> None:
    data = os.urandom(2 * HEAD_BYTES)
    cache = SizeCache(tmp_path / "sizes.json")
    _feed(CachedSizer(cache, len(data), CountingCompressor()), data)
    # Same size, same first MiB, different tail: the digest check refuses the recorded size.
    other = data[:HEAD_BYTES] + bytes(HEAD_BYTES)
    assert _feed(CachedSizer(cache, len(other), CountingCompressor()), other) is None


def test_small_layers_are_recognised_at_their_end(tmp_path: Path) -> None:
    data = b"tiny layer" * 100
    cache = SizeCache(tmp_path / "sizes.json")
    assert _feed(CachedSizer(cache, len(data), CountingCompressor()), data, 7) == 100
    again = CountingCompressor()
    assert _feed(CachedSizer(cache, len(data), again), data, 7) == 100
    assert again.fed == 0


def test_the_cache_persists_and_ignores_other_methods_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "sizes.json"
    data = os.urandom(1000)
    cache = SizeCache(path)
    _feed(CachedSizer(cache, len(data), CountingCompressor()), data)
    cache.save()
    saved = json.loads(path.read_text())
    assert saved["method"] == METHOD
    ((fingerprint, (diff_id, size)),) = saved["layers"].items()
    assert fingerprint == f"1000:{hashlib.sha256(data).hexdigest()}"
    assert diff_id == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert size == 100
    assert SizeCache(path).lookup(fingerprint) == (diff_id, 100)
    path.write_text(json.dumps(saved | {"method": "gzip -9"}))
    assert SizeCache(path).lookup(fingerprint) is None
    path.write_text("{not json")
    assert SizeCache(path).lookup(fingerprint) is None


def test_an_analysis_with_the_cache_gives_the_same_compressed_sizes(tmp_path: Path) -> None:
    big = (("data/", 0), ("data/a.bin", 2_500_000))
    layers = (*scenario.LAYERS, LayerSpec(big, "/bin/sh -c make data"))
    archive = save_tar(layers)
    plain = analyse_stream(chunks(archive), compress=True)
    cache = SizeCache(tmp_path / "sizes.json")
    first = analyse_stream(chunks(archive), compress=True, size_cache=cache)
    second = analyse_stream(chunks(archive), compress=True, size_cache=SizeCache(cache.path))
    assert cache.path is not None and cache.path.is_file()  # saved after the pass
    sizes = [layer.compressed_bytes for layer in plain.layers]
    assert [layer.compressed_bytes for layer in first.layers] == sizes
    assert [layer.compressed_bytes for layer in second.layers] == sizes
    assert second.compressed_bytes == plain.compressed_bytes
