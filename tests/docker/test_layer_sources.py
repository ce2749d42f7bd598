"""The layer analysis read from the engine's storage gives exactly what `docker save` gives.

Both ways, every number of the ImageAnalysis (layers, dive's efficiency and wasted bytes,
size groups, findings) on: test images with the cases that trip a reader up (a whiteout,
a file chmod-ed in a later layer, an opaque directory, hard links, symlinks, a sparse file,
a fifo, a directory replaced by a file and back, a RECORD file), the lab's bases, and the
variants (all five on Engine 20.10, two on Engine 26: VARIANTS). Run on each lab engine
(BENCH_TEST_ENGINE=26 for the containerd store).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.engine import labels, layerpaths, layersource
from bench.engine.client import Engine
from bench.lab.paths import DEFAULT_ENGINE, LabPaths
from bench.layers.analysis import analyse_stream
from bench.models import ImageAnalysis
from bench.run.workbench import DockerWorkbench
from tests.conftest import test_engine

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
# All five on the default engine. On Engine 26 (containerd, where a cold build of the five
# takes ~6 min in CI) the two that add what the others do not: a single-stage pip install
# and a multi-stage copy of a venv; the test images and the bases cover the rest there.
VARIANTS = (
    ("full", "slim", "alpine", "multistage", "naive")
    if test_engine() == DEFAULT_ENGINE
    else ("slim", "multistage")
)
BASES = ("python:3.11", "python:3.11-slim", "python:3.11-alpine")

_BUSYBOX = (
    "FROM python:3.11-alpine AS tools\nFROM scratch\nCOPY --from=tools /bin/busybox /bin/busybox\n"
)


def _sh(script: str) -> str:
    """A RUN line for busybox's shell (no /bin/sh in the image), each command by path."""
    return f'RUN ["/bin/busybox", "sh", "-c", "{script}"]\n'


B = "/bin/busybox"
DOCKERFILES = {
    # A whiteout and an overwrite (as tests/docker/test_layers.py's image).
    "whiteout": _BUSYBOX
    + "COPY keep.txt overwrite.txt /data/\n"
    + _sh(f"{B} dd if=/dev/zero of=/data/big.bin bs=1000 count=5000")
    + _sh(f"{B} rm /data/big.bin")
    + "COPY v2/overwrite.txt /data/overwrite.txt\n",
    # chmod copies a file up whole; a directory removed and made again is opaque.
    "chmod-opaque": _BUSYBOX
    + "COPY keep.txt overwrite.txt /data/\n"
    + _sh(
        f"{B} mkdir -p /cache/old/deep && {B} dd if=/dev/urandom of=/cache/old/deep/a.bin "
        f"bs=1000 count=300 && {B} cp /data/keep.txt /cache/k.txt"
    )
    + _sh(f"{B} chmod 600 /data/keep.txt")
    + _sh(f"{B} rm -rf /cache && {B} mkdir /cache && {B} cp /data/overwrite.txt /cache/new.txt")
    + _sh(f"{B} rm -rf /cache/* && {B} mkdir -p /cache/old && {B} cp /data/keep.txt /cache/old/"),
    # Hard links (within a layer and to a lower layer's file), symlinks, a sparse file, a
    # fifo, a directory replaced by a file and a file by a directory, a RECORD file.
    "links": _BUSYBOX
    + "COPY RECORD /usr/lib/python3/dist-packages/demo-1.0.dist-info/RECORD\n"
    + _sh(
        f"{B} mkdir -p /l/a /l/b /l/dir && {B} dd if=/dev/urandom of=/l/a/z bs=1000 count=20 && "
        f"{B} ln /l/a/z /l/b/y && {B} ln /l/a/z /l/a.z && {B} ln -s ../a/z /l/b/sym && "
        f"{B} truncate -s 3000000 /l/sparse && {B} mkfifo /l/fifo && {B} echo f > /l/file"
    )
    + _sh(
        f"{B} ln /l/a/z /l/c && {B} rm -rf /l/dir && {B} echo x > /l/dir && {B} rm /l/file && "
        f"{B} mkdir /l/file && {B} echo y > /l/file/in && {B} chmod 700 /l/sparse"
    )
    + "COPY RECORD /usr/lib/python3/dist-packages/demo/__init__.py\n",
}


def _context(directory: Path) -> None:
    (directory / "keep.txt").write_bytes(b"k" * 1000)
    (directory / "overwrite.txt").write_bytes(b"o" * 3000)
    (directory / "v2").mkdir()
    (directory / "v2" / "overwrite.txt").write_bytes(b"O" * 4500)
    (directory / "RECORD").write_text("demo/__init__.py,sha256=x,19\n../../../bin/demo,,\n")


def _build(
    engine: Engine, run_id: str, context: Path, dockerfile: Path, tag: str, **kw: object
) -> str:
    outcome = engine.build(
        context,
        dockerfile,
        tag,
        nocache=False,
        labels=labels.for_run(run_id),
        **kw,  # type: ignore[arg-type]
    )
    assert outcome.ok, outcome.error
    return tag


@pytest.fixture(scope="module")
def test_images(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    run_id = f"test-sources-{secrets.token_hex(3)}"
    context = tmp_path_factory.mktemp("sources")
    _context(context)
    built: dict[str, str] = {}
    try:
        for name, text in DOCKERFILES.items():
            (context / f"{name}.Dockerfile").write_text(text)
            tag = f"dockerfile-bench/test-sources:{run_id}-{name}"
            built[name] = _build(
                engine, run_id, context, context / f"{name}.Dockerfile", tag, network_mode="none"
            )
        yield built
    finally:
        for tag in built.values():
            engine.remove_image(tag)


@pytest.fixture(scope="module")
def variant_images(engine: Engine) -> Iterator[dict[str, str]]:
    """The five variants, built as the lab builds them (cached builds where the engine has
    them: only the images matter here, not build times)."""
    run_id = f"test-sources-{secrets.token_hex(3)}"
    paths = LabPaths.default()
    args = {"PIP_FIND_LINKS": paths.wheelhouse_url, "PIP_NO_INDEX": "1"}
    built: dict[str, str] = {}
    try:
        for name in VARIANTS:
            tag = f"dockerfile-bench/test-sources:{run_id}-{name}"
            built[name] = _build(
                engine,
                run_id,
                REPO / "variants" / "app",
                REPO / "variants" / name / "Dockerfile",
                tag,
                buildargs=args,
                network_mode="host",
            )
        yield built
    finally:
        for tag in built.values():
            engine.remove_image(tag)


def _both_ways(engine: Engine, reference: str, base: str | None = None) -> None:
    base_count = 0
    if base is not None:
        from bench.layers.analysis import base_layer_count

        base_count = base_layer_count(engine.diff_ids(reference) or (), engine.diff_ids(base) or ())
    saved = analyse_stream(engine.save(reference), base_layer_count=base_count)
    stored = layersource.analyse_planned(
        layerpaths.locate(engine, reference), None, base_layer_count=base_count
    )
    assert (saved.source, stored.source) == ("save", "storage")
    _assert_same(saved, stored)


def _assert_same(saved: ImageAnalysis, stored: ImageAnalysis) -> None:
    # Layer by layer first: a difference then names its layer.
    assert [dataclasses.astuple(layer) for layer in stored.layers] == [
        dataclasses.astuple(layer) for layer in saved.layers
    ]
    assert dataclasses.replace(saved, source="storage") == stored


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_test_images_read_the_same_both_ways(
    engine: Engine, test_images: dict[str, str], name: str
) -> None:
    _both_ways(engine, test_images[name])


def test_the_cases_are_in_the_images(engine: Engine, test_images: dict[str, str]) -> None:
    chmod = analyse_stream(engine.save(test_images["chmod-opaque"]))
    assert chmod.layers[3].files_changed == 1  # the chmod-ed copy
    assert chmod.layers[4].files_removed == 2  # the opaque /cache hides both files below
    links = layersource.analyse_planned(
        layerpaths.locate(engine, test_images["links"]), None, base_layer_count=0
    )
    # 20,000 bytes once (three more names are hard links), the sparse file's 3 MB, "f\n".
    assert links.layers[2].size_bytes == 20_000 + 3_000_000 + 2


@pytest.mark.parametrize("base", BASES)
def test_bases_read_the_same_both_ways(engine: Engine, base: str) -> None:
    _both_ways(engine, base)


def test_variants_read_the_same_both_ways(engine: Engine, variant_images: dict[str, str]) -> None:
    for name, tag in variant_images.items():
        base = "python:3.11-alpine" if name == "alpine" else "python:3.11-slim"
        if name == "full":
            base = "python:3.11"
        _both_ways(engine, tag, base)


def test_the_workbench_reads_the_storage_and_says_so(
    engine: Engine, test_images: dict[str, str]
) -> None:
    notes: list[str] = []
    storage = DockerWorkbench(
        engine, "test-sources", {}, None, layer_source="storage", on_note=notes.append
    )
    save = DockerWorkbench(engine, "test-sources", {}, None, layer_source="save")
    image = test_images["whiteout"]
    from_storage = storage.analyse_image(image, None, compressed=False)
    from_save = save.analyse_image(image, None, compressed=False)
    assert from_storage is not None and from_save is not None
    _assert_same(from_save, from_storage)
    assert notes == ["layers: read from the engine's storage (--source storage)"]
    # No view of ours is left in containerd, nothing of anyone else's was touched.
    assert engine.diff_ids(image)
