"""Graph-driver and containerd image stores: which size is which, and baselines per store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench import storage
from bench.cli import main
from bench.engine.client import image_store
from bench.gate import baseline as baseline_module
from bench.models import RunResult, VariantResult
from bench.report.latest import render_markdown
from bench.run.analysis_phase import with_analysis
from tests.unit.sample_results import sample_run

# What Engine 26's /info says with `features.containerd-snapshotter` on, and 20.10's.
CONTAINERD_INFO = {
    "Driver": "overlayfs",
    "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
}
OVERLAY2_INFO = {
    "Driver": "overlay2",
    "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
}


def test_the_image_store_is_read_from_the_engine_info() -> None:
    assert image_store(CONTAINERD_INFO) == "containerd"
    assert image_store(OVERLAY2_INFO) == "graphdriver"
    assert image_store({}) == "graphdriver"


def _on_containerd(run: RunResult) -> RunResult:
    """The sample run as the containerd store records it before the layer analysis: the
    engine's Size is stored content, the size the history's layer sizes."""

    def stored(variant: VariantResult) -> VariantResult:
        if variant.image is None:
            return variant
        image = replace(
            variant.image,
            engine_size_bytes=variant.image.size_bytes // 3,
            engine_size_kind="content",
        )
        return replace(variant, image=image)

    engine = replace(run.provenance.engine, image_store="containerd", storage_driver="overlayfs")
    return replace(
        run,
        provenance=replace(run.provenance, engine=engine),
        variants=tuple(stored(v) for v in run.variants),
    )


def test_the_analysis_gives_the_unpacked_size_on_the_containerd_store() -> None:
    slim = next(v for v in _on_containerd(sample_run()).variants if v.name == "slim")
    assert slim.image is not None and slim.image.analysis is not None
    analysis = replace(slim.image.analysis, symlink_bytes=1234)
    provisional = replace(slim, image=replace(slim.image, size_bytes=1))
    updated = with_analysis(provisional, analysis, keep_tables=True)
    assert updated.image is not None
    assert updated.image.size_bytes == analysis.size_bytes + 1234
    assert updated.image.engine_size_bytes == slim.image.engine_size_bytes  # kept apart


def test_on_a_graph_driver_the_engines_size_stays_the_size() -> None:
    slim = next(v for v in sample_run().variants if v.name == "slim")
    assert slim.image is not None and slim.image.analysis is not None
    analysis = replace(slim.image.analysis, symlink_bytes=1234)
    updated = with_analysis(slim, analysis, keep_tables=True)
    assert updated.image is not None and updated.image.size_bytes == slim.image.size_bytes


def test_the_report_names_the_engines_number_for_what_it_is() -> None:
    graph = render_markdown([sample_run()])
    assert "| engine reports" not in graph
    assert "graphdriver (overlay2)" in graph
    stored = render_markdown([_on_containerd(sample_run())])
    assert "| engine reports" in stored and "(stored content)" in stored
    assert "containerd (overlayfs)" in stored
    assert "unpacked: the sum of the layers' contents" in stored


def test_baselines_are_kept_per_image_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = sample_run()
    stored = _on_containerd(graph)
    assert baseline_module.default_path(graph) == Path("reports/baseline.json")
    assert baseline_module.default_path(stored) == Path("reports/baseline-containerd.json")
    online = replace(stored, provenance=replace(stored.provenance, bases_are_standins=False))
    assert baseline_module.default_path(online) == Path("reports/baseline-online-containerd.json")

    made = baseline_module.from_run(stored)
    path = tmp_path / "baseline.json"
    baseline_module.save(made, path)
    assert baseline_module.load(path).image_store == "containerd"

    results = tmp_path / f"{graph.run_id}.json"
    storage.save(graph, results)
    assert main(["check", str(results), "--baseline", str(path)]) == 2
    error = capsys.readouterr().err
    assert "containerd image store" in error and "compare like with like" in error


def test_a_first_format_baseline_is_a_graph_driver_ones() -> None:
    committed = baseline_module.load(baseline_module.LAB_BASELINE)
    assert committed.image_store == "graphdriver"


def test_the_containerd_history_sizes_give_way_to_the_exact_layer_bytes() -> None:
    slim = next(v for v in _on_containerd(sample_run()).variants if v.name == "slim")
    assert slim.image is not None and slim.image.analysis is not None
    analysis = slim.image.analysis
    # The history as the containerd store gives it: disk usage in 4 KiB blocks, and an
    # empty directory's layer (WORKDIR) counted as 8 kB.
    blocky = tuple(
        replace(layer, size_bytes=(layer.size_bytes // 4096 + 2) * 4096)
        if layer.size_bytes > 0 or layer.instruction.startswith("WORKDIR")
        else layer
        for layer in slim.image.layers
    )
    provisional = replace(slim, image=replace(slim.image, layers=blocky))
    assert len([layer for layer in blocky if layer.size_bytes > 0]) == len(analysis.layers)
    updated = with_analysis(provisional, analysis, keep_tables=True)
    assert updated.image is not None
    assert [layer.size_bytes for layer in updated.image.layers if layer.size_bytes > 0] == [
        layer.size_bytes for layer in analysis.layers if layer.size_bytes > 0
    ]
    assert updated.image.layers_with_bytes == sum(1 for la in analysis.layers if la.size_bytes)
