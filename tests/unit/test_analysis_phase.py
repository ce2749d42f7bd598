"""The run's layer analyses after its timed work: order, staging ahead, deletions, crashes."""

from __future__ import annotations

import pytest

from bench import manifest
from bench.errors import BenchError
from bench.models import ImageAnalysis, VariantResult
from bench.run.analysis_phase import analyse_pending
from bench.run.measure import PendingAnalysis, RunOptions, measure_variant
from bench.run.phases import PhaseClock
from bench.run.progress import SilentProgress
from tests.unit.fakes import FakeWorkbench, fake_harness

NAMES = ["slim", "alpine", "naive"]


def _ignored(_: VariantResult) -> None:
    pass


def _measure_all(bench: FakeWorkbench, options: RunOptions) -> list[PendingAnalysis]:
    harness, handed = fake_harness(bench, options)
    for variant in manifest.load().select(NAMES):
        measure_variant(harness, variant)
    return handed.pending


def _analyse(
    bench: FakeWorkbench, pending: list[PendingAnalysis], keep_images: bool = False
) -> tuple[list[str], list[str], PhaseClock]:
    analysed: list[str] = []
    crashed: list[str] = []
    clock = PhaseClock()

    def on_analysis(item: PendingAnalysis, analysis: ImageAnalysis | None) -> None:
        assert analysis is not None
        analysed.append(item.variant)

    def on_crash(item: PendingAnalysis, error: Exception) -> None:
        crashed.append(f"{item.variant}: {error}")

    analyse_pending(
        bench,
        pending,
        compressed=True,
        keep_images=keep_images,
        on_analysis=on_analysis,
        on_crash=on_crash,
        progress=SilentProgress(),
        clock=clock,
    )
    return analysed, crashed, clock


def test_each_variant_s_last_cold_build_is_analysed_in_order() -> None:
    bench = FakeWorkbench()
    pending = _measure_all(bench, RunOptions(repeat=2))
    assert bench.analysed == []  # nothing is read while builds are timed
    analysed, crashed, clock = _analyse(bench, pending)
    assert analysed == NAMES and crashed == []
    cold = [image for image in bench.built if image.rsplit("-", 1)[-1].isdigit()]
    assert len(cold) == 6  # two cold builds a variant
    assert [reference for reference, _, _ in bench.analysed] == cold[1::2]
    assert [item.superseded for item in pending] == [(image,) for image in cold[0::2]]
    # Each analysis lets the engine stage the next image's save; the last has none.
    assert bench.staged_next == [*cold[3::2], None]
    assert {name for name, _ in clock.totals()} == {"layer analysis", "cleanup"}


def test_everything_of_the_run_is_deleted_and_each_image_once_read() -> None:
    bench = FakeWorkbench()
    pending = _measure_all(bench, RunOptions(repeat=2))
    built = list(dict.fromkeys(bench.built))
    measured = [item.image_id for item in pending]
    _analyse(bench, pending)  # the fake raises if an image is read after its deletion
    assert sorted(bench.discarded) == sorted(built)
    # The spent images go first (edits, superseded cold builds), the measured ones in order.
    assert bench.discarded[-3:] == measured
    assert not set(measured) & set(bench.discarded[:-3])


def test_kept_images_stay_but_superseded_cold_builds_go() -> None:
    bench = FakeWorkbench()
    pending = _measure_all(bench, RunOptions(repeat=3, keep_images=True))
    _analyse(bench, pending, keep_images=True)
    superseded = [image for item in pending for image in item.superseded]
    assert len(superseded) == 6
    assert bench.discarded == superseded


def test_a_crash_in_one_analysis_is_that_variant_s_and_the_others_go_on() -> None:
    bench = FakeWorkbench()
    pending = _measure_all(bench, RunOptions(repeat=1))
    bench.analysis_errors[pending[1].image_id] = KeyError("layer.tar")
    analysed, crashed, _ = _analyse(bench, pending)
    assert analysed == ["slim", "naive"]
    assert crashed == ["alpine: 'layer.tar'"]


def test_a_lost_engine_stops_the_phase() -> None:
    bench = FakeWorkbench()
    pending = _measure_all(bench, RunOptions(repeat=1))
    bench.analysis_errors[pending[0].image_id] = BenchError("lost the Docker engine")
    with pytest.raises(BenchError, match="lost the Docker engine"):
        _analyse(bench, pending)
    assert len(bench.analysed) == 1


def test_no_analysis_and_no_compressed_size_means_nothing_pending() -> None:
    bench = FakeWorkbench()
    assert _measure_all(bench, RunOptions(repeat=1, analyse=False, compressed=False)) == []
