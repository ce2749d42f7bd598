"""reports/engines.md: the same variants on each engine, image store and builder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench import storage
from bench.cli import main
from bench.models import RunResult, Sample, VariantResult
from bench.report.engines import render_engines, setup_label
from tests.unit.sample_results import sample_run


def _on(run: RunResult, version: str, store: str, builder: str, slower: float) -> RunResult:
    """The sample run as if made on another setup, every build `slower` times as long."""

    def slowed(sample: Sample) -> Sample:
        if sample.duration_seconds is None or sample.scenario == "pull":
            return sample
        return replace(sample, duration_seconds=sample.duration_seconds * slower)

    def moved(variant: VariantResult) -> VariantResult:
        image = variant.image
        if image is not None and store == "containerd":
            image = replace(
                image, engine_size_bytes=image.size_bytes // 3, engine_size_kind="content"
            )
        samples = tuple(slowed(s) for s in variant.samples)
        return replace(variant, image=image, samples=samples)

    engine = replace(
        run.provenance.engine,
        server_version=version,
        image_store=store,  # type: ignore[arg-type]
        storage_driver="overlayfs" if store == "containerd" else "overlay2",
        builder=builder,
    )
    return replace(
        run,
        run_id=f"{run.run_id}-{version}-{builder}",
        provenance=replace(run.provenance, engine=engine),
        variants=tuple(moved(v) for v in run.variants),
    )


def _setups() -> list[RunResult]:
    run = sample_run()
    return [
        run,
        _on(run, "26.1.5", "containerd", "classic", 10.0),
        _on(run, "26.1.5", "containerd", "buildkit", 0.5),
    ]


def test_one_row_per_variant_and_setup_with_times_against_the_first() -> None:
    runs = _setups()
    text = render_engines(runs)
    assert setup_label(runs[1]) == "Engine 26.1.5, containerd store (overlayfs), classic builder"
    assert setup_label(runs[2]).endswith("containerd store (overlayfs), BuildKit")
    slim_rows = [line for line in text.splitlines() if line.startswith("| **slim**")]
    assert len(slim_rows) == 3
    first, containerd, buildkit = slim_rows
    assert "x)" not in first  # the reference has nothing to be compared with
    assert "(10.0x)" in containerd and "(0.5x)" in buildkit
    assert "stored)" in containerd and "stored)" not in first
    assert "/root/" not in text and "/work/" not in text


def test_the_command_writes_engines_md(tmp_path: Path) -> None:
    files = []
    for index, run in enumerate(_setups()):
        path = tmp_path / f"{index}-{run.run_id}.json"
        storage.save(run, path)
        files.append(str(path))
    assert main(["report", "--engines", *files, "--report-dir", str(tmp_path / "out")]) == 0
    written = (tmp_path / "out" / "engines.md").read_text()
    assert written == render_engines([storage.load(Path(f)) for f in files])
    assert not (tmp_path / "out" / "latest.md").exists()
