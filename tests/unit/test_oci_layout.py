"""Engine 25+'s `docker save` (an OCI layout, layer blobs plain, gzip or zstd) gives the
analysis Engine 20.10's legacy archive gives for the same layers (no Docker)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.commands.layers import render_text
from bench.layers.analysis import analyse_stream
from bench.layers.savestream import (
    _PIECE_BYTES,
    ForwardReader,
    UnreadableImage,
    _DamagedStream,
    _gunzipped,
    _unzstded,
    _Window,
    read_save_stream,
)
from bench.layers.sizecache import SizeCache
from bench.models import ImageAnalysis
from tests.unit import scenario
from tests.unit.savetar import (
    Compression,
    LayerSpec,
    Member,
    archive,
    chunks,
    compressed,
    layer_tar,
    oci_save_tar,
    save_tar,
)

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

# Bigger than one decompressed piece, and a run of zeros that zstd shrinks ~30,000-fold:
# one read of the blob decompresses to many pieces.
BIG = LayerSpec(
    (("data/", 0), ("data/a.bin", 3_000_000), ("data/zeros", bytes(6_000_000))),
    "/bin/sh -c make data",
)
LAYERS = (*scenario.LAYERS, BIG)


def _analyse(data: bytes, **options: object) -> ImageAnalysis:
    settings: dict[str, object] = {"base_layer_count": 1, "min_finding_bytes": 1000}
    return analyse_stream(chunks(data, 65_537), **(settings | options))  # type: ignore[arg-type]


def _without_compressed(analysis: ImageAnalysis) -> ImageAnalysis:
    layers = tuple(dataclasses.replace(layer, compressed_bytes=None) for layer in analysis.layers)
    return dataclasses.replace(analysis, compressed_bytes=None, layers=layers)


@pytest.fixture(scope="module")
def legacy() -> ImageAnalysis:
    return _analyse(save_tar(LAYERS))


@pytest.fixture(scope="module")
def legacy_compressed() -> ImageAnalysis:
    return _analyse(save_tar(LAYERS), compress=True)


FORMATS: list[Compression | tuple[Compression, ...]] = [
    "tar",
    "gzip",
    "zstd",
    ("gzip", "tar", "zstd", "zstd", "tar", "gzip", "zstd"),
]


@pytest.mark.parametrize("compression", FORMATS, ids=["tar", "gzip", "zstd", "mixed"])
@pytest.mark.parametrize("shuffle_seed", [None, 1, 2], ids=["digest-order", "shuffled", "again"])
@pytest.mark.parametrize("manifest_first", [False, True], ids=["manifest-last", "manifest-first"])
def test_the_oci_layout_gives_the_legacy_analysis(
    legacy: ImageAnalysis,
    compression: Compression | tuple[Compression, ...],
    shuffle_seed: int | None,
    manifest_first: bool,
) -> None:
    saved = oci_save_tar(
        [LAYERS],
        compression=compression,
        shuffle_seed=shuffle_seed,
        manifest_first=manifest_first,
    )
    assert _analyse(saved) == legacy


def test_the_hand_worked_numbers_hold_on_the_oci_layout() -> None:
    # scenario.py's image as dive 0.13.1 reads it: 83.4212 % and 7420 bytes wasted.
    result = _analyse(oci_save_tar([scenario.LAYERS], compression="gzip", shuffle_seed=3))
    assert (f"{result.efficiency * 100:.4f}", result.wasted_bytes) == ("83.4212", 7420)


@pytest.mark.parametrize("compression", FORMATS, ids=["tar", "gzip", "zstd", "mixed"])
def test_compressed_sizes_on_the_oci_layout(
    legacy_compressed: ImageAnalysis, compression: Compression | tuple[Compression, ...]
) -> None:
    saved = oci_save_tar([LAYERS], compression=compression, shuffle_seed=5)
    result = _analyse(saved, compress=True)
    assert _without_compressed(result) == _without_compressed(legacy_compressed)
    formats = [compression] * len(LAYERS) if isinstance(compression, str) else compression
    for ours, theirs, spec, layer_format in zip(
        result.layers, legacy_compressed.layers, LAYERS, formats, strict=True
    ):
        if layer_format == "gzip":
            # A gzip blob's stored size is what a registry keeps: taken, not recomputed.
            assert ours.compressed_bytes == len(compressed(layer_tar(spec.items), "gzip"))
        else:
            # A plain or zstd blob: the tar it holds is deflated, as in the legacy archive.
            assert ours.compressed_bytes == theirs.compressed_bytes
    assert result.compressed_bytes == sum(layer.compressed_bytes or 0 for layer in result.layers)


def test_a_layer_shared_by_two_images_is_read_once_for_each() -> None:
    # Image 2 shares layers 0-2 with image 1: each shared blob is in the archive once, and
    # manifest.json names it for both. The first image's analysis is as if saved alone.
    other = (*scenario.LAYERS[:3], LayerSpec((("other", 77),), "/bin/sh -c other"))
    alone = _analyse(oci_save_tar([LAYERS], compression="gzip"))
    together = oci_save_tar([LAYERS, other], compression="gzip", shuffle_seed=7)
    with tarfile.open(fileobj=io.BytesIO(together)) as outer:
        blobs = [member.name for member in outer if member.isfile()]
    assert len(blobs) == len(set(blobs))
    assert _analyse(together) == alone


@pytest.mark.parametrize("compression", ["tar", "gzip", "zstd"])
def test_a_layer_twice_in_one_image_is_one_blob(compression: Compression) -> None:
    layers = (
        LayerSpec((("a/", 0), ("a/f", 100)), "/bin/sh -c #(nop) ADD file:1 in / "),
        LayerSpec((("b", 10),), "/bin/sh -c one"),
        LayerSpec((("b", 10),), "/bin/sh -c two"),
    )
    legacy = _analyse(save_tar(layers, repeat_layer={2: 1}), base_layer_count=0)
    result = _analyse(oci_save_tar([layers], compression=compression), base_layer_count=0)
    assert result == legacy
    assert [layer.size_bytes for layer in result.layers] == [100, 10, 10]
    assert result.wasted_bytes == 20
    packed = _analyse(oci_save_tar([layers], compression=compression), compress=True)
    sizes = [layer.compressed_bytes or 0 for layer in packed.layers]
    assert packed.compressed_bytes == sizes[0] + sizes[1]  # a registry stores it once


def test_a_zstd_layer_size_comes_from_the_cache_the_second_time(tmp_path: Path) -> None:
    saved = oci_save_tar([LAYERS], compression="zstd")
    plain = _analyse(saved, compress=True)
    cache = SizeCache(tmp_path / "sizes.json")
    assert _analyse(saved, compress=True, size_cache=cache) == plain
    assert _analyse(saved, compress=True, size_cache=SizeCache(cache.path)) == plain


@pytest.mark.parametrize("compression", ["tar", "gzip", "zstd"])
def test_the_text_view_is_the_same_for_every_format(compression: Compression) -> None:
    def text(data: bytes) -> str:
        out = io.StringIO()
        render_text("demo:1", "base:1", True, 1.5, _analyse(data), out)
        return out.getvalue()

    oci = text(oci_save_tar([scenario.LAYERS], compression=compression, shuffle_seed=11))
    assert oci == text(save_tar(scenario.LAYERS))
    assert "efficiency  83.4212 %" in oci


# Errors: one line, naming what is missing or unreadable -------------------------------------


def _rewritten(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The archive with each file's bytes replaced by `change` (None drops the file)."""
    members: list[Member] = []
    with tarfile.open(fileobj=io.BytesIO(data)) as outer:
        for member in outer:
            if member.isdir():
                members.append((member.name, None))
                continue
            handle = outer.extractfile(member)
            assert handle is not None
            new = change(member.name, handle.read())
            if new is not None:
                members.append((member.name, new))
    return archive(members)


def _layer_blob(compression: Compression, index: int = 0) -> str:
    blob = compressed(layer_tar(scenario.LAYERS[index].items), compression)
    return f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}"


def _refusal(data: bytes) -> str:
    with pytest.raises(UnreadableImage) as caught:
        read_save_stream(chunks(data), compress=False)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("compression", "cut", "says"),
    [
        ("gzip", 0.5, "the gzip stream is cut short"),  # mid-tar
        ("gzip", -4, "the gzip stream is cut short"),  # after the tar: the trailer's length
        ("zstd", 0.5, "the zstd stream is cut short"),
        ("zstd", -2, "the zstd stream is cut short"),
        ("tar", 0.5, "a layer cut short"),
    ],
)
def test_a_cut_short_blob_is_named(compression: Compression, cut: float, says: str) -> None:
    name = _layer_blob(compression, 2)

    def cut_short(member: str, blob: bytes) -> bytes:
        if member != name:
            return blob
        return blob[: int(len(blob) * cut) if cut > 0 else int(cut)]

    saved = _rewritten(oci_save_tar([scenario.LAYERS], compression=compression), cut_short)
    message = _refusal(saved)
    assert message.startswith(f"cannot read the saved image's layer {name}: ")
    assert says in message


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_damaged_blob_is_named(compression: Compression) -> None:
    name = _layer_blob(compression, 2)

    def damage(member: str, blob: bytes) -> bytes:
        if member != name:
            return blob
        middle = len(blob) // 2
        return (
            blob[:middle]
            + bytes(b ^ 0x5A for b in blob[middle : middle + 64])
            + blob[middle + 64 :]
        )

    message = _refusal(_rewritten(oci_save_tar([scenario.LAYERS], compression=compression), damage))
    # gzip's CRC (or its codes) give it away; a zstd frame without a checksum may decode to
    # bytes that are not a tar header.
    assert message.startswith(f"cannot read the saved image's layer {name}: ")
    assert ("damaged gzip" if compression == "gzip" else "bad header in a layer") in message


def test_a_blob_the_manifest_names_but_the_stream_lacks() -> None:
    name = _layer_blob("gzip", 1)
    saved = _rewritten(
        oci_save_tar([scenario.LAYERS], compression="gzip"),
        lambda member, blob: None if member == name else blob,
    )
    assert _refusal(saved) == f"the saved image lacks its layer {name}"


def test_a_config_the_manifest_names_but_the_stream_lacks() -> None:
    saved = oci_save_tar([scenario.LAYERS], shuffle_seed=4)
    with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
        handle = outer.extractfile("manifest.json")
        assert handle is not None
        config = handle.read().decode().split('"Config": "')[1].split('"')[0]
    saved = _rewritten(saved, lambda member, blob: None if member == config else blob)
    assert _refusal(saved) == f"the saved image lacks its config {config}"


def test_a_layer_blob_that_is_not_a_layer() -> None:
    name = _layer_blob("tar", 1)
    saved = _rewritten(
        oci_save_tar([scenario.LAYERS]),
        lambda member, blob: b"BZh91AY&SY" + blob if member == name else blob,
    )
    assert _refusal(saved) == f"the saved image's layer {name} is neither a tar nor gzip nor zstd"


# The decompressors: several members or frames, and pieces of bounded size ------------------


def _pieces(blob: bytes, decompress: Callable[[_Window], Iterator[bytes]]) -> list[bytes]:
    reader = ForwardReader(chunks(blob, 10_007))
    return list(decompress(_Window(reader, len(blob), None)))


def test_gzip_members_one_after_another_are_one_stream() -> None:
    blob = gzip.compress(b"first ", mtime=0) + gzip.compress(b"second", mtime=0)
    assert b"".join(_pieces(blob, _gunzipped)) == b"first second"
    with pytest.raises(_DamagedStream, match="not gzip"):
        _pieces(blob + b"trailing", _gunzipped)


def test_zstd_frames_and_skippable_frames_are_one_stream() -> None:
    skippable = (0x184D2A50).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"notes"
    blob = zstd.compress(b"first ") + skippable + zstd.compress(b"second")
    assert b"".join(_pieces(blob, _unzstded)) == b"first second"


@pytest.mark.parametrize("decompress", [_gunzipped, _unzstded], ids=["gzip", "zstd"])
def test_a_run_of_zeros_decompresses_in_bounded_pieces(
    decompress: Callable[[_Window], Iterator[bytes]],
) -> None:
    zeros = bytes(40 * _PIECE_BYTES + 123)
    blob = gzip.compress(zeros, mtime=0) if decompress is _gunzipped else zstd.compress(zeros)
    pieces = _pieces(blob, decompress)
    assert max(len(piece) for piece in pieces) <= _PIECE_BYTES
    assert sum(len(piece) for piece in pieces) == len(zeros)
