"""The layer analysis on `docker save` archives built in the test (no Docker).

tests/unit/scenario.py's image, worked out by hand with dive's definitions
(bench/layers/efficiency.py), R being the length of the RECORD file:

- layer 0 (base): etc/config 1000, usr/big 5000, usr/keep 300, usr/lib/{a 400, b 600},
  bin/busybox 2000, bin/sh a symlink (0 in its header, 7 bytes of target);
- layer 1 deletes usr/big (whiteout of a file: 0) and rewrites etc/config (1200);
- layer 2 adds a pip cache (20000), a package (3000 + .pyc 1500 + tests 700 + RECORD R
  + a script 64), os.py 900, app/main.py 100, srv/data.bin 50;
- layer 3 deletes the directory usr/lib (its whiteout weighs 1000: a and b);
- layer 4 makes /etc opaque (dive ignores that marker) and adds etc/new 50;
- layer 5 rewrites app/main.py (120).

Paths in two layers: /etc/config 1000 + 1200, /usr/big 5000 + 0, /app/main.py 100 + 120,
so wasted = 2200 + 5000 + 220 = 7420. The smallest record per path sums to 31664 + R, all
records to 37984 + R (every path once, those three twice, /usr/lib's whiteout 1000):
efficiency = (31664 + R) / (37984 + R). dive 0.13.1 gives 83.4212 % and 7420 bytes on this
archive (`dive --source docker-archive`); the image holds 36984 + R bytes.
"""

from __future__ import annotations

import io
import tarfile

import pytest
from zlib_ng import zlib_ng

from bench.layers.analysis import analyse_stream, base_layer_count, layer_instructions
from bench.layers.deflate import deflate_size
from bench.layers.efficiency import efficiency
from bench.layers.entries import Entry, clean_path
from bench.layers.findings import describe
from bench.layers.savestream import (
    ForwardReader,
    UnreadableImage,
    _members,
    _Window,
    decode_header,
    read_save_stream,
)
from bench.models import ImageAnalysis
from tests.unit import scenario
from tests.unit.savetar import Item, LayerSpec, chunks, layer_tar, save_tar


def _analyse(data: bytes, **options: object) -> ImageAnalysis:
    settings: dict[str, object] = {"base_layer_count": 1, "min_finding_bytes": 1000}
    return analyse_stream(chunks(data), **(settings | options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def analysis() -> ImageAnalysis:
    return _analyse(save_tar(scenario.LAYERS))


# dive's numbers ------------------------------------------------------------------------------


def test_wasted_bytes_and_efficiency_are_dives(analysis: ImageAnalysis) -> None:
    assert analysis.wasted_bytes == scenario.WASTED_BYTES == 7420
    assert analysis.efficiency == scenario.EFFICIENCY
    assert f"{analysis.efficiency * 100:.4f}" == "83.4212"  # as dive printed it


def test_size_is_the_sum_of_tar_header_sizes(analysis: ImageAnalysis) -> None:
    assert analysis.size_bytes == scenario.SIZE_BYTES
    assert sum(layer.size_bytes for layer in analysis.layers) == analysis.size_bytes
    assert analysis.symlink_bytes == len("busybox")


def test_top_wasted_paths_largest_first(analysis: ImageAnalysis) -> None:
    assert [(w.path, w.wasted_bytes, w.layer_count) for w in analysis.top_wasted] == [
        ("/usr/big", 5000, 2),
        ("/etc/config", 2200, 2),
        ("/app/main.py", 220, 2),
    ]


def test_a_whiteout_with_no_target_ends_the_layer_as_in_dive() -> None:
    # Layer 1's walk (by name) meets a/.wh.ghost first: dive stops there, so a/x, a/z and
    # b/y of that layer are never counted, and the ghost's record keeps a minimum of -1.
    # dive 0.13.1 on this archive: efficiency 78.8060 %, wasted 75 bytes (/c/d only).
    layers = (
        LayerSpec(
            (("a/", 0), ("a/z", 100), ("a/x", 30), ("c/", 0), ("c/d/", 0), ("c/d/e", 70)),
            "/bin/sh -c #(nop) ADD file:1 in / ",
        ),
        LayerSpec(
            (("a/", 0), ("a/.wh.ghost", 0), ("a/z", 200), ("b/", 0), ("b/y", 50), ("a/x", 40)),
            "/bin/sh -c x",
        ),
        LayerSpec((("c/", 0), ("c/.wh.d", 0), ("b/", 0), ("b/y", 60)), "/bin/sh -c y"),
        LayerSpec((("c/", 0), ("c/d", 5)), "/bin/sh -c z"),
    )
    result = _analyse(save_tar(layers), base_layer_count=0)
    # minimum: a/z 100 + a/x 30 + c/d/e 70 + ghost -1 + c/d 5 + b/y 60 = 264
    # all:     a/z 100 + a/x 30 + c/d/e 70 + c/d (70 + 5) + b/y 60 = 335
    assert result.efficiency == 264 / 335
    assert result.wasted_bytes == 75
    assert [(w.path, w.wasted_bytes) for w in result.top_wasted] == [("/c/d", 75)]


def test_an_empty_image_is_fully_efficient() -> None:
    assert efficiency([[]]).score == 1.0
    assert efficiency([[Entry("etc", 0, True)], [Entry("etc", 0, True)]]).wasted_bytes == 0


# What each layer did -------------------------------------------------------------------------


def test_layer_table(analysis: ImageAnalysis) -> None:
    rows = [
        (
            layer.instruction,
            layer.files_added,
            layer.files_changed,
            layer.files_removed,
            layer.in_base,
        )
        for layer in analysis.layers
    ]
    assert rows == [
        ("ADD file:0a1b in /", 7, 0, 0, True),
        ("RUN rm /usr/big && echo changed > /etc/config", 0, 1, 1, False),
        # Build arguments in the history (|2 A=b ...) are not part of the instruction.
        ("RUN pip install demo", 9, 0, 0, False),
        ("RUN rm -rf /usr/lib", 0, 0, 2, False),
        # The opaque /etc hides layer 1's etc/config.
        ("RUN rm -rf /etc && mkdir /etc && echo new > /etc/new", 1, 0, 1, False),
        ("COPY file:9f in /app/", 0, 1, 0, False),
    ]
    assert analysis.app_dir == "/app"  # the image's WORKDIR


def test_instructions_skip_history_entries_without_a_layer() -> None:
    config = {
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:1 in / "},
            {"created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
            {"created_by": "/bin/sh -c apt-get update"},
        ]
    }
    assert layer_instructions(config, 3) == ["ADD file:1 in /", "RUN apt-get update", ""]


def test_base_layers_are_the_common_prefix() -> None:
    assert base_layer_count(("a", "b", "c"), ("a", "b")) == 2
    assert base_layer_count(("a", "b", "c"), ("a", "x", "c")) == 1
    assert base_layer_count(("a",), ()) == 0


# Groups and findings -------------------------------------------------------------------------


def test_groups_add_up_to_the_image_size(analysis: ImageAnalysis) -> None:
    groups = {(g.kind, g.name): (g.size_bytes, g.files) for g in analysis.groups}
    assert groups == {
        ("base", "base image"): (9300, 7),
        ("runtime", "Python runtime"): (900, 1),
        # __init__.py, RECORD itself, and the script RECORD places in usr/local/bin.
        ("package", "demo"): (3000 + scenario.R + 64, 3),
        ("pip-cache", "pip cache"): (20000, 1),
        ("bytecode", "bytecode (.pyc)"): (1500, 1),
        ("tests-docs", "tests and docs in packages"): (700, 1),
        ("app", "the app"): (100 + 120, 2),
        ("other", "other files"): (1200 + 50 + 50, 3),
    }
    assert sum(g.size_bytes for g in analysis.groups) == analysis.size_bytes


def test_findings_name_the_layer_and_the_bytes(analysis: ImageAnalysis) -> None:
    found = [
        (f.kind, f.layer_index, f.other_layer_index, f.size_bytes, f.paths)
        for f in analysis.findings
    ]
    assert found == [
        ("pip-cache", 2, None, 20000, ("/root/.cache/pip",)),
        ("deleted-later", 0, 1, 5000, ("/usr/big",)),
        ("deleted-later", 1, 4, 1200, ("/etc/config",)),
        ("deleted-later", 0, 3, 1000, ("/usr/lib/b", "/usr/lib/a")),
        ("overwritten-later", 0, 1, 1000, ("/etc/config",)),
    ]  # app/main.py's 100 replaced bytes are below the threshold
    instructions = [layer.instruction for layer in analysis.layers]
    text = describe(analysis.findings[1], instructions)
    assert text.startswith("1 file added in layer 0 (`ADD file:0a1b in /`) is deleted in layer 1")
    assert "still cost 5.00 kB" in text


def test_no_finding_without_enough_bytes() -> None:
    # With the default threshold (1 MB) the scenario's small files are not worth a word.
    assert _analyse(save_tar(scenario.LAYERS), min_finding_bytes=1_000_000).findings == ()


def test_the_base_image_is_not_judged() -> None:
    result = _analyse(save_tar(scenario.LAYERS), base_layer_count=3)
    assert {(f.kind, f.layer_index) for f in result.findings} == {
        ("deleted-later", 0),  # layer 3 and 4 (ours) delete base files: still a finding
        ("deleted-later", 1),
    }


# Reading the stream --------------------------------------------------------------------------


def test_manifest_first_gives_the_same_analysis(analysis: ImageAnalysis) -> None:
    # The OCI layout of Engine 25+ is tested against this one in test_oci_layout.py.
    assert _analyse(save_tar(scenario.LAYERS, manifest_first=True)) == analysis


def test_a_repeated_layer_is_read_from_its_first_copy() -> None:
    # Engine 20.10 saves a layer it already saved as a symlink to the first copy (dive
    # reads that link as an empty layer; its contents are the first copy's).
    layers = (
        LayerSpec((("a/", 0), ("a/f", 100)), "/bin/sh -c #(nop) ADD file:1 in / "),
        LayerSpec((("b", 10),), "/bin/sh -c one"),
        LayerSpec((("b", 10),), "/bin/sh -c two"),
    )
    result = _analyse(save_tar(layers, repeat_layer={2: 1}), base_layer_count=0)
    assert [layer.size_bytes for layer in result.layers] == [100, 10, 10]
    assert result.wasted_bytes == 20


def test_compressed_sizes_match_gzip_of_each_layer() -> None:
    big = (("data/", 0), ("data/a.bin", 3_000_000), ("data/b.bin", 700_000))
    layers = (*scenario.LAYERS, LayerSpec(big, "/bin/sh -c make data"))
    result = _analyse(save_tar(layers), compress=True)
    for layer_analysis, spec in zip(result.layers, layers, strict=True):
        reference = deflate_size(layer_tar(spec.items))
        assert layer_analysis.compressed_bytes is not None
        # Blocks of 1 MiB, each ended by a 5-byte sync marker and starting a new deflate
        # block: tens of bytes per block at most (on the lab's full image: -0.004 %).
        blocks = layer_analysis.size_bytes // (1 << 20) + 1
        assert abs(layer_analysis.compressed_bytes - reference) <= 32 * blocks
    assert result.compressed_bytes == sum(layer.compressed_bytes or 0 for layer in result.layers)


def test_compressed_size_is_none_unless_asked(analysis: ImageAnalysis) -> None:
    assert analysis.compressed_bytes is None
    assert all(layer.compressed_bytes is None for layer in analysis.layers)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a tar at all" * 100, "cannot read the saved image"),
        (save_tar(scenario.LAYERS)[:30_000], "cannot read the saved image"),
        (layer_tar((("hello", 5),)), "has no manifest.json"),
    ],
    ids=["garbage", "cut-short", "no-manifest"],
)
def test_unreadable_archives_say_why(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableImage, match=message):
        read_save_stream(chunks(data), compress=False)


def test_forward_reader_reads_across_chunks_and_never_back() -> None:
    reader = ForwardReader([b"abc", b"", b"defg", b"h"])
    assert reader.peek(5) == b"abcde"
    assert reader.read(2) == b"ab"
    assert reader.read(4) == b"cdef"
    assert reader.seek(7) == 7
    assert reader.read() == b"h"
    with pytest.raises(OSError, match="forward only"):
        reader.seek(1)


def test_clean_path_is_gos_path_clean_without_the_slash() -> None:
    assert clean_path("./usr//bin/") == "usr/bin"
    assert clean_path("/etc/../var/x") == "var/x"
    assert clean_path("./") == ""


@pytest.mark.parametrize(
    "tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]
)
def test_members_are_read_as_tarfile_reads_them(tar_format: int) -> None:
    deep = "usr/lib/python3/" + "deep/" * 30 + "module.py"
    items: tuple[Item, ...] = (
        ("dir/", 0),
        ("dir/file", 1234),
        ("dir/link", 0, "file"),
        # ustar splits long names into prefix and name; GNU and PAX add extra headers.
        (deep if tar_format != tarfile.USTAR_FORMAT else "a" * 90 + "/b" * 20, 10),
        ("long/link", 0, "target/" * 20 if tar_format != tarfile.USTAR_FORMAT else "t"),
        ("naïve/ünïcode", 3),
        ("empty", 0),
    )
    data = layer_tar(items, tar_format)
    window = _Window(ForwardReader(chunks(data, 100)), len(data), None)
    ours = [(m.name, m.size, m.type, m.linkname) for m in _members(window)]
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        theirs = [(m.name, m.size, m.type, m.linkname) for m in archive]
    assert ours == theirs


def test_a_corrupt_header_is_refused() -> None:
    data = bytearray(layer_tar((("file", 10),)))
    data[0] ^= 0xFF  # the checksum no longer adds up
    window = _Window(ForwardReader([bytes(data)]), len(data), None)
    with pytest.raises(tarfile.ReadError, match="bad header in a layer"):
        list(_members(window))


def test_a_layer_cut_mid_header_is_refused() -> None:
    data = layer_tar((("file", 10),))[:700]
    with pytest.raises(tarfile.ReadError, match="cut short"):
        list(_members(_Window(ForwardReader([data]), len(data), None)))
    assert decode_header(layer_tar((("a/b", 3),))[:512]).name == "a/b"


def test_zlib_ng_primer_is_what_makes_blocks_small() -> None:
    # The property deflate.py relies on: a block primed with its predecessor compresses
    # like the continuation of one stream.
    block = b"0123456789abcdef" * 4096
    plain = zlib_ng.compressobj(6, zlib_ng.DEFLATED, -15)
    primed = zlib_ng.compressobj(6, zlib_ng.DEFLATED, -15, zdict=block[-32768:])
    assert len(primed.compress(block) + primed.flush()) < len(plain.compress(block) + plain.flush())
