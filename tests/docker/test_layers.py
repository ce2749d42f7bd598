"""The layer analysis of a real image against numbers known in advance, and against dive.

The image is built here, FROM scratch so that nothing but its own files count:

- layer 0: busybox (S bytes, copied from the lab's python:3.11-alpine);
- layer 1: data/keep.txt 1000 bytes, data/overwrite.txt 3000 bytes;
- layer 2: data/big.bin, 5,000,000 bytes;
- layer 3: deletes data/big.bin (a whiteout: 0 bytes);
- layer 4: data/overwrite.txt again, 4500 bytes.

With dive's definitions: wasted = (5,000,000 + 0) + (3000 + 4500) = 5,007,500, and
efficiency = (S + 1000 + 0 + 3000) / (S + 1000 + 5,000,000 + 7500).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.engine import labels
from bench.engine.client import Engine
from bench.errors import BenchError
from bench.layers.analysis import analyse_stream
from bench.perf.layers import dive_binary
from bench.run.workbench import DockerWorkbench

pytestmark = pytest.mark.docker

DOCKERFILE = """FROM python:3.11-alpine AS tools
FROM scratch
COPY --from=tools /bin/busybox /bin/busybox
COPY keep.txt overwrite.txt /data/
RUN ["/bin/busybox", "dd", "if=/dev/zero", "of=/data/big.bin", "bs=1000", "count=5000"]
RUN ["/bin/busybox", "rm", "/data/big.bin"]
COPY v2/overwrite.txt /data/overwrite.txt
"""
WASTED_BYTES = 5_000_000 + 3000 + 4500


@pytest.fixture(scope="module")
def image(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("layers")
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "keep.txt").write_bytes(b"k" * 1000)
    (context / "overwrite.txt").write_bytes(b"o" * 3000)
    (context / "v2").mkdir()
    (context / "v2" / "overwrite.txt").write_bytes(b"O" * 4500)
    run_id = f"test-layers-{secrets.token_hex(3)}"
    tag = f"dockerfile-bench/test-layers:{run_id}"
    outcome = engine.build(
        context,
        context / "Dockerfile",
        tag,
        nocache=True,
        labels=labels.for_run(run_id),
        network_mode="none",
    )
    assert outcome.ok, outcome.error
    try:
        yield tag
    finally:
        engine.remove_image(tag)
        assert engine.image_id(tag) is None


def test_known_wasted_bytes_and_efficiency(engine: Engine, image: str) -> None:
    analysis = analyse_stream(engine.save(image), base_layer_count=1, app_dir="/data")
    busybox_bytes = analysis.layers[0].size_bytes
    if engine.image_store() == "graphdriver":
        # A graph driver's history gives each layer's bytes; the containerd store's gives
        # disk usage in 4 KiB blocks.
        facts = engine.image_facts(image)
        assert busybox_bytes == next(
            layer.size_bytes for layer in facts.layers if "COPY file:" in layer.instruction
        )
    assert [layer.size_bytes for layer in analysis.layers] == [
        busybox_bytes,
        4000,
        5_000_000,
        0,
        4500,
    ]
    assert analysis.wasted_bytes == WASTED_BYTES
    assert analysis.efficiency == (busybox_bytes + 4000) / (busybox_bytes + 5_008_500)
    assert [(w.path, w.wasted_bytes) for w in analysis.top_wasted] == [
        ("/data/big.bin", 5_000_000),
        ("/data/overwrite.txt", 7500),
    ]
    (finding,) = analysis.findings  # the overwritten 3000 bytes are below the threshold
    assert (finding.kind, finding.layer_index, finding.other_layer_index) == (
        "deleted-later",
        2,
        3,
    )
    assert (finding.size_bytes, finding.paths) == (5_000_000, ("/data/big.bin",))
    assert [layer.files_removed for layer in analysis.layers] == [0, 0, 0, 1, 0]


def test_groups_add_up_to_the_image_size(engine: Engine, image: str) -> None:
    analysis = analyse_stream(engine.save(image), base_layer_count=1, app_dir="/data")
    assert sum(group.size_bytes for group in analysis.groups) == analysis.size_bytes
    assert {(g.kind, g.size_bytes) for g in analysis.groups} == {
        ("base", analysis.layers[0].size_bytes),
        ("app", 1000 + 3000 + 5_000_000 + 4500),
    }
    # The engine's Size counts what tar headers count, plus each symlink's target path
    # (tar gives symlinks a size of 0); this image has no symlinks, so they are equal. On
    # the containerd store Size counts stored content: the run takes the analysis's sum.
    assert analysis.symlink_bytes == 0
    facts = engine.image_facts(image)
    if engine.image_store() == "graphdriver":
        assert facts.size_bytes == analysis.size_bytes
        assert facts.engine_size_kind == "unpacked"
    else:
        assert facts.engine_size_kind == "content"
        assert facts.engine_size_bytes is not None
        assert facts.engine_size_bytes < analysis.size_bytes  # 5 MB of zeros compress away


# What a graph driver's Size counts; the containerd store's Size counts stored content.
@pytest.mark.lab_engines("20.10")
def test_engine_size_is_tar_sizes_plus_symlink_targets(engine: Engine) -> None:
    # The lab's alpine stand-in links busybox applets: each link's target counts there.
    analysis = analyse_stream(engine.save("python:3.11-alpine"))
    assert analysis.symlink_bytes > 0
    assert engine.image_facts("python:3.11-alpine").size_bytes == (
        analysis.size_bytes + analysis.symlink_bytes
    )
    assert sum(group.size_bytes for group in analysis.groups) == analysis.size_bytes


def test_numbers_equal_dives(engine: Engine, image: str, tmp_path: Path) -> None:
    report = tmp_path / "dive.json"
    environment = {**os.environ, "DOCKER_HOST": engine.docker_host or "unix:///var/run/docker.sock"}
    subprocess.run(
        [str(dive_binary()), image, "--ci", "--json", str(report)],
        env=environment,
        capture_output=True,
        check=False,  # its CI rules fail on this wasteful image: that is expected
    )
    dive = json.loads(report.read_text())["image"]
    analysis = analyse_stream(engine.save(image))
    assert analysis.wasted_bytes == dive["inefficientBytes"] == WASTED_BYTES
    assert analysis.efficiency == dive["efficiencyScore"]
    assert analysis.size_bytes == dive["sizeBytes"]


def test_the_workbench_gives_the_compressed_size(engine: Engine, image: str) -> None:
    bench = DockerWorkbench(engine, "test-layers", {}, None)
    analysis = bench.analyse_image(image, "python:3.11-alpine", compressed=True)
    assert analysis is not None
    # FROM scratch: the final stage has no base layers, whatever the first stage used.
    assert analysis.base_layer_count == 0
    assert analysis.compressed_bytes is not None
    # 5 MB of zeros compress to almost nothing; busybox to about half.
    assert 0 < analysis.compressed_bytes < analysis.size_bytes // 2
    assert analysis.compressed_bytes == sum(
        layer.compressed_bytes or 0 for layer in analysis.layers
    )


def test_a_save_staged_ahead_reads_the_same(engine: Engine, image: str) -> None:
    # Through docker save, which `auto` would not take here (the storage is readable).
    bench = DockerWorkbench(engine, "test-layers", {}, None, layer_source="save")
    other = "python:3.11-alpine"
    # While `image` is read, the engine stages `other`; reading it then gives what a save
    # started on the spot gives.
    bench.analyse_image(image, None, compressed=False, next_image=other)
    staged = bench.analyse_image(other, None, compressed=False)
    assert staged == analyse_stream(engine.save(other))
    # A staged save nobody reads is let go; one of an image that is gone fails when read.
    bench.analyse_image(image, None, compressed=False, next_image=other)
    bench.close()
    bench.analyse_image(image, None, compressed=False, next_image="dockerfile-bench/gone:1")
    with pytest.raises(BenchError, match="no image dockerfile-bench/gone:1"):
        bench.analyse_image("dockerfile-bench/gone:1", None, compressed=False)
    assert engine.diff_ids(image)
