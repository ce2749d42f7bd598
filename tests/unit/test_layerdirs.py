"""Layers read from directories as an overlay store keeps them give what their tars give.

The tars here are written by CPython's tarfile from the same directories (an independent
writer: it, too, lists a directory's names sorted, and writes a file's later links as hard
links), so a walk that disagrees with a tar writer shows. Whiteouts (character devices 0/0)
and the opaque attribute need root; those tests say so and are skipped without it.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from bench.layers.analysis import analyse_layer_dirs, analyse_saved
from bench.layers.entries import Entry, SavedImage
from bench.layers.layerdirs import LayerDirError, read_layer_dir
from bench.layers.savestream import read_save_stream
from tests.unit import savetar

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mknod and trusted.* xattrs need root")
RECORD = "usr/lib/python3/dist-packages/demo-1.0.dist-info/RECORD"


def _tree(root: Path) -> None:
    """A layer with what trips a reader up: sorting, links, a sparse file, a RECORD."""
    (root / "b").mkdir(parents=True)
    (root / "b" / "z.txt").write_bytes(b"z" * 10)
    (root / "a.b").write_bytes(b"x" * 7)  # sorts between a and a/...: '.' < '/'
    (root / "a").mkdir()
    (root / "a" / "first").write_bytes(b"f" * 100)
    os.link(root / "a" / "first", root / "b" / "second")  # hard link, later in walk order
    (root / "a" / "link").symlink_to("../b/z.txt")
    with (root / "sparse").open("wb") as handle:
        handle.truncate(1 << 20)  # a hole: 1 MiB logical, no blocks
    record = root / RECORD
    record.parent.mkdir(parents=True)
    record.write_text("demo/__init__.py,sha256=x,3\n")
    (root / "usr/lib/python3/dist-packages/demo").mkdir()
    (root / "usr/lib/python3/dist-packages/demo/__init__.py").write_bytes(b"abc")
    os.mkfifo(root / "pipe")


def _tar_of(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for child in sorted(directory.iterdir()):
            archive.add(child, arcname=child.name)
    return buffer.getvalue()


def _saved_from_tars(tars: list[bytes]) -> SavedImage:
    members: list[savetar.Member] = [(f"{i}/layer.tar", data) for i, data in enumerate(tars)]
    config = b'{"config": {"WorkingDir": "/app"}, "history": []}'
    manifest = f'[{{"Config": "c.json", "Layers": {[m[0] for m in members]}}}]'
    members += [("c.json", config), ("manifest.json", manifest.replace("'", '"').encode())]
    return read_save_stream([savetar.archive(members)], compress=False)


def test_a_layer_directory_reads_as_its_tar(tmp_path: Path) -> None:
    _tree(tmp_path / "layer")
    from_dir = read_layer_dir("x", tmp_path / "layer")
    (from_tar,) = _saved_from_tars([_tar_of(tmp_path / "layer")]).layers
    assert from_dir.entries == from_tar.entries
    assert from_dir.size_bytes == from_tar.size_bytes == 100 + 10 + 7 + (1 << 20) + 3 + 28
    assert from_dir.symlink_bytes == from_tar.symlink_bytes == len("../b/z.txt")
    assert from_dir.records == from_tar.records == {RECORD: "demo/__init__.py,sha256=x,3\n"}


def test_order_is_depth_first_with_names_sorted_bytewise(tmp_path: Path) -> None:
    _tree(tmp_path)
    paths = [entry.path for entry in read_layer_dir("x", tmp_path).entries]
    assert paths[:5] == ["a", "a/first", "a/link", "a.b", "b"]
    # The hard link comes after its first name: it has no bytes of its own.
    assert Entry("b/second", 0, False) in read_layer_dir("x", tmp_path).entries
    assert "pipe" in paths


def test_a_socket_is_left_out_as_the_engine_leaves_it_out(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(os.fspath(path))
        assert stat.S_ISSOCK(path.lstat().st_mode)
        assert read_layer_dir("x", tmp_path).entries == []


def test_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LayerDirError, match="cannot read layer directory"):
        read_layer_dir("x", tmp_path / "gone")


@needs_root
def test_whiteouts_and_opaque_directories_as_overlay_keeps_them(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.mknod(tmp_path / "etc" / "gone.conf", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    (tmp_path / "cache").mkdir()
    os.setxattr(tmp_path / "cache", "trusted.overlay.opaque", b"y")
    (tmp_path / "cache" / "new").write_bytes(b"n" * 5)
    os.mknod(tmp_path / "tty", stat.S_IFCHR | 0o600, os.makedev(5, 0))  # a real device
    assert read_layer_dir("x", tmp_path).entries == [
        Entry("cache", 0, True),
        Entry("cache/.wh..wh..opq", 0, False),
        Entry("cache/new", 5, False),
        Entry("etc", 0, True),
        Entry("etc/.wh.gone.conf", 0, False),
        Entry("tty", 0, False),
    ]


@needs_root
def test_an_image_from_directories_has_the_numbers_of_its_save_stream(tmp_path: Path) -> None:
    # Layer 0: a tree; layer 1: changes, a deletion and an opaque directory over it.
    lower, upper = tmp_path / "0", tmp_path / "1"
    _tree(lower)
    (lower / "cache").mkdir()
    (lower / "cache" / "old.bin").write_bytes(b"o" * 5000)
    upper.mkdir()
    (upper / "a").mkdir()
    (upper / "a" / "first").write_bytes(b"F" * 300)
    (upper / "b").mkdir()
    os.mknod(upper / "b" / "z.txt", stat.S_IFCHR, os.makedev(0, 0))
    (upper / "cache").mkdir()
    os.setxattr(upper / "cache", "trusted.overlay.opaque", b"y")
    (upper / "cache" / "fresh.bin").write_bytes(b"c" * 70)
    # The same layer 1 as the engine's tar writer converts it: whiteout names, opaque marker.
    tar_upper = savetar.layer_tar(
        [
            ("a/", 0),
            ("a/first", b"F" * 300),
            ("b/", 0),
            ("b/.wh.z.txt", b""),
            ("cache/", 0),
            ("cache/.wh..wh..opq", b""),
            ("cache/fresh.bin", b"c" * 70),
        ]
    )
    saved = _saved_from_tars([_tar_of(lower), tar_upper])
    expected = analyse_saved(saved, base_layer_count=1)
    got = analyse_layer_dirs(
        [lower, upper], ["sha256:l", "sha256:u"], saved.config, base_layer_count=1
    )
    assert got.source == "storage"
    assert got == dataclasses.replace(expected, source="storage")
    assert got.wasted_bytes > 0 and got.layers[1].files_removed == 2


def test_a_repeated_layer_is_read_once_and_compressed_sizes_come_by_digest(
    tmp_path: Path,
) -> None:
    (tmp_path / "f").write_bytes(b"1" * 10)
    config: dict[str, object] = {"config": {}, "history": []}
    got = analyse_layer_dirs(
        [tmp_path, tmp_path], ["sha256:a", "sha256:a"], config, compressed_sizes={"sha256:a": 7}
    )
    assert got.compressed_bytes == 7  # a registry stores a repeated layer once
    assert [layer.size_bytes for layer in got.layers] == [10, 10]
    missing = analyse_layer_dirs([tmp_path], ["sha256:a"], config, compressed_sizes={})
    assert missing.compressed_bytes is None


def test_directories_and_layers_must_pair(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1 layer directories for 2 layers"):
        analyse_layer_dirs([tmp_path], ["sha256:a", "sha256:b"], {})


def test_containerds_writer_gives_a_linked_files_bytes_to_a_changed_name(tmp_path: Path) -> None:
    # A link made to a lower layer's file copies it up unchanged: containerd writes the
    # new name with the bytes and the copied-up one as a link to it; moby the other way.
    lower, upper = tmp_path / "0", tmp_path / "1"
    (lower / "l" / "a").mkdir(parents=True)
    (lower / "l" / "a" / "z").write_bytes(b"z" * 500)
    (upper / "l" / "a").mkdir(parents=True)
    shutil.copy2(lower / "l" / "a" / "z", upper / "l" / "a" / "z")  # the copy-up
    os.link(upper / "l" / "a" / "z", upper / "l" / "c")
    moby = read_layer_dir("x", upper, "moby", [lower])
    containerd = read_layer_dir("x", upper, "containerd", [lower])
    assert [(e.path, e.size) for e in moby.entries if not e.is_dir] == [("l/a/z", 500), ("l/c", 0)]
    assert [(e.path, e.size) for e in containerd.entries if not e.is_dir] == [
        ("l/a/z", 0),
        ("l/c", 500),
    ]
    assert moby.size_bytes == containerd.size_bytes == 500
