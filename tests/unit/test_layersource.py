"""Which way the layers are read, and where the engine keeps them: no Docker needed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import cast

import pytest

from bench.engine import layerpaths, layersource
from bench.engine.client import Engine
from bench.errors import BenchError
from bench.layers.sizecache import SizeCache
from bench.models import StoredImage


class _Engine:
    """The part of Engine that locating layers uses."""

    def __init__(self, pid: int | None, stored: StoredImage | None = None) -> None:
        self.pid = pid
        self.stored = stored

    def daemon_pid(self) -> int | None:
        return self.pid

    def stored_image(self, reference: str) -> StoredImage | None:
        return self.stored

    def diff_ids(self, reference: str) -> tuple[str, ...] | None:
        return self.diff_ids_found

    diff_ids_found: tuple[str, ...] | None = None


def _engine(pid: int | None, stored: StoredImage | None = None) -> Engine:
    return cast("Engine", _Engine(pid, stored))


def test_chain_ids_follow_the_oci_definition() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    second = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert layerpaths.chain_ids([a, b]) == (a, second)
    assert layerpaths.chain_ids([]) == ()


def test_a_view_names_its_layers_top_first() -> None:
    overlay = [
        {
            "Type": "overlay",
            "Source": "overlay",
            "Options": ["index=off", "lowerdir=/s/3/fs:/s/2/fs:/s/1/fs"],
        }
    ]
    assert layerpaths.snapshot_directories(overlay) == ["/s/3/fs", "/s/2/fs", "/s/1/fs"]
    bind = [{"Type": "bind", "Source": "/s/1/fs", "Options": ["ro", "rbind"]}]
    assert layerpaths.snapshot_directories(bind) == ["/s/1/fs"]
    with pytest.raises(layerpaths.StorageUnreadable, match="no overlay or bind mount"):
        layerpaths.snapshot_directories([{"Type": "tmpfs"}])


def test_overlay2_layers_bottom_first_through_the_engine_root(tmp_path: Path) -> None:
    image_id = "sha256:" + "c" * 64
    config = tmp_path / "data/image/overlay2/imagedb/content/sha256" / ("c" * 64)
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"config": {"WorkingDir": "/app"}}))
    for name in ("l1", "l2", "up"):
        (tmp_path / "data/overlay2" / name / "diff").mkdir(parents=True)
    stored = StoredImage(
        image_id=image_id,
        diff_ids=("sha256:1", "sha256:2", "sha256:3"),
        driver="overlay2",
        driver_data=(
            ("LowerDir", "/data/overlay2/l2/diff:/data/overlay2/l1/diff"),
            ("UpperDir", "/data/overlay2/up/diff"),
        ),
        root_dir="/data",
        image_store="graphdriver",
    )
    located = layerpaths.overlay2_layers(tmp_path, stored)
    assert [path.relative_to(tmp_path).parts[2] for path in located.directories] == [
        "l1",
        "l2",
        "up",
    ]
    assert located.config == {"config": {"WorkingDir": "/app"}}
    fewer = StoredImage(**{**stored.__dict__, "diff_ids": ("sha256:1",)})
    with pytest.raises(layerpaths.StorageUnreadable, match="3 layer directories for 1 layers"):
        layerpaths.overlay2_layers(tmp_path, fewer)
    other = StoredImage(**{**stored.__dict__, "driver": "vfs"})
    with pytest.raises(layerpaths.StorageUnreadable, match="only overlay2"):
        layerpaths.overlay2_layers(tmp_path, other)


def test_save_when_asked() -> None:
    chosen = layersource.plan(_engine(None), "x", "save", compress=False, size_cache=None)
    assert (chosen.source, chosen.line()) == (
        "save",
        "layers: read from docker save (--source save)",
    )


def test_auto_falls_back_to_save_with_the_reason() -> None:
    chosen = layersource.plan(_engine(None), "x", "auto", compress=False, size_cache=None)
    assert chosen.source == "save"
    assert chosen.line() == (
        "layers: read from docker save (the engine is not on a local unix socket)"
    )


def test_storage_when_it_cannot_be_read_is_an_error() -> None:
    with pytest.raises(BenchError, match="--source storage: the engine is not on a local"):
        layersource.plan(_engine(None), "x", "storage", compress=False, size_cache=None)


def test_a_process_that_is_not_there_has_no_files_here() -> None:
    with pytest.raises(layerpaths.StorageUnreadable, match="not on this machine"):
        layerpaths.engine_root(_engine(2**22 + 12345))


def _readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, diff_ids: tuple[str, ...]) -> Engine:
    located = layerpaths.LayerDirs("sha256:i", diff_ids, tuple(tmp_path for _ in diff_ids), {})
    monkeypatch.setattr(layerpaths, "locate", lambda engine, reference: located)
    fake = _Engine(1)
    fake.diff_ids_found = diff_ids
    return cast("Engine", fake)


def test_compressed_sizes_known_by_digest_keep_the_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _readable(tmp_path, monkeypatch, ("sha256:a", "sha256:b"))
    cache = SizeCache(None)
    cache.record("fingerprint-a", "sha256:a", 11)
    auto = layersource.plan(engine, "x", "auto", compress=True, size_cache=cache)
    assert auto.source == "save"
    assert "1 layer(s) have no compressed size yet" in auto.line()
    insisted = layersource.plan(engine, "x", "storage", compress=True, size_cache=cache)
    assert (insisted.source, insisted.compressed_sizes) == ("storage", {"sha256:a": 11})
    cache.record("fingerprint-b", "sha256:b", 22)
    known = layersource.plan(engine, "x", "auto", compress=True, size_cache=cache)
    assert (known.source, known.compressed_sizes) == ("storage", {"sha256:a": 11, "sha256:b": 22})
    plain = layersource.plan(engine, "x", "auto", compress=False, size_cache=None)
    assert (
        plain.line() == "layers: read from the engine's storage (the engine's storage is readable)"
    )


def test_the_analysis_of_located_layers_is_marked_as_from_storage(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 3)
    located = layerpaths.LayerDirs("sha256:i", ("sha256:a",), (tmp_path,), {"history": []})
    analysis = layersource.analyse_planned(located, None, base_layer_count=0)
    assert (analysis.source, analysis.size_bytes) == ("storage", 3)
    gone = layerpaths.LayerDirs("sha256:i", ("sha256:a",), (tmp_path / "gone",), {})
    with pytest.raises(BenchError, match="changed while it was read"):
        layersource.analyse_planned(gone, None, base_layer_count=0)


def test_the_layers_are_the_snapshots_named_by_chain_id() -> None:
    listed = (
        "KEY        PARENT     KIND\n"
        "sha256:c2  c2-init    Committed\n"
        "c2-init    sha256:c1  Committed\n"
        "sha256:c1             Committed\n"
        "other      sha256:c1  Active\n"
    )
    parents = layerpaths.parse_snapshot_list(listed)
    assert parents == {
        "sha256:c2": "c2-init",
        "c2-init": "sha256:c1",
        "sha256:c1": "",
        "other": "sha256:c1",
    }
    ancestry = layerpaths.snapshot_ancestry(parents, "sha256:c2")
    assert ancestry == ["sha256:c2", "c2-init", "sha256:c1"]
    assert layerpaths.layer_directories(
        ["/s/3", "/s/2", "/s/1"], ancestry, ["sha256:c1", "sha256:c2"]
    ) == ["/s/1", "/s/3"]
    with pytest.raises(layerpaths.StorageUnreadable, match="2 directories for 3 snapshots"):
        layerpaths.layer_directories(["/s/3", "/s/2"], ancestry, ["sha256:c1", "sha256:c2"])
    with pytest.raises(layerpaths.StorageUnreadable, match="no snapshot named sha256:c0"):
        layerpaths.layer_directories(["/s/3", "/s/2", "/s/1"], ancestry, ["sha256:c0"])
