"""The runner's scenarios with a fake builder: samples, re-run steps, failures as rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bench import manifest
from bench.models import Sample, VariantResult
from bench.phases import PhaseClock
from bench.progress import SilentProgress
from bench.runner import RunOptions, measure_variant
from tests.unit.fakes import FakeWorkbench

REPO = Path(__file__).resolve().parents[2]


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def _measure(
    name: str, bench: FakeWorkbench, **options: object
) -> tuple[VariantResult, list[VariantResult]]:
    variant = manifest.load().select([name])[0]
    saved: list[VariantResult] = []
    scratch: list[Path] = []
    result = measure_variant(
        bench,
        variant,
        "run1",
        RunOptions(**options),  # type: ignore[arg-type]
        SilentProgress(),
        saved.append,
        scratch,
    )
    assert scratch == []  # scratch copies are gone
    return result, saved


def _samples(result: VariantResult, scenario: str) -> list[Sample]:
    return [s for s in result.samples if s.scenario == scenario]


def test_every_scenario_is_sampled_repeat_times() -> None:
    result, saved = _measure("slim", FakeWorkbench(), repeat=3)
    assert result.status == "ok"
    assert [len(_samples(result, s)) for s in ("pull", "cold", "edit", "noop")] == [1, 3, 3, 3]
    assert len(saved) >= 10  # a checkpoint after every measurement


def test_cold_builds_run_every_step() -> None:
    result, _ = _measure("slim", FakeWorkbench(), repeat=2)
    for sample in _samples(result, "cold"):
        assert all(not step.cached for step in sample.steps)
        assert sample.duration_seconds == pytest.approx(
            sum(step.duration_seconds for step in sample.steps)
        )


def test_an_edit_reruns_only_the_code_copy_and_what_follows() -> None:
    result, _ = _measure("slim", FakeWorkbench(), repeat=2)
    for sample in _samples(result, "edit"):
        rerun = [step.instruction for step in sample.rerun_steps]
        assert rerun[0].startswith("COPY --chown=10001:10001 main.py")
        assert not any("pip install" in step for step in rerun)
        assert sample.duration_seconds is not None and sample.duration_seconds < 1


def test_naive_variant_reinstalls_dependencies_after_an_edit() -> None:
    result, _ = _measure("naive", FakeWorkbench(), repeat=2)
    for sample in _samples(result, "edit"):
        assert any("pip install" in step.instruction for step in sample.rerun_steps)
        assert sample.duration_seconds is not None and sample.duration_seconds > 12


def test_noop_rebuild_is_all_cache_hits() -> None:
    result, _ = _measure("slim", FakeWorkbench(), repeat=2)
    for sample in _samples(result, "noop"):
        assert sample.rerun_steps == ()


def test_the_users_tree_is_untouched() -> None:
    before = _tree_digest(REPO / "variants")
    _measure("naive", FakeWorkbench(), repeat=2)
    assert _tree_digest(REPO / "variants") == before


def test_a_failing_build_is_a_failed_row_with_its_log() -> None:
    result, _ = _measure("slim", FakeWorkbench(fail_build={"slim"}), repeat=3)
    assert result.status == "failed"
    assert result.reason is not None and "non-zero code" in result.reason
    cold = _samples(result, "cold")
    assert len(cold) == 1 and not cold[0].ok and cold[0].log_tail
    assert result.smoke is None and not _samples(result, "edit")


def test_a_base_that_cannot_be_pulled_fails_the_variant() -> None:
    result, _ = _measure("multistage", FakeWorkbench(missing_bases={"python:3.11"}))
    assert result.status == "failed"
    assert result.reason == "base image python:3.11 cannot be pulled: manifest unknown"


def test_a_failing_smoke_test_fails_the_variant_but_keeps_the_timings() -> None:
    result, _ = _measure("alpine", FakeWorkbench(failing_smoke={"alpine"}), repeat=1)
    assert result.status == "failed"
    assert result.reason == "smoke test failed: container exited with code 1"
    assert result.smoke is not None and result.smoke.log_tail
    assert len(_samples(result, "edit")) == 1


def test_scenarios_can_be_chosen() -> None:
    result, _ = _measure("slim", FakeWorkbench(), repeat=2, scenarios=("cold",))
    assert {s.scenario for s in result.samples} == {"cold"}


def test_the_image_is_analysed_once_with_its_final_base() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("multistage", bench, repeat=3)
    # One `docker save` pass per variant, after the cold builds, on the final stage's base.
    assert bench.analysed == [("dockerfile-bench/multistage:run1", "python:3.11-slim", True)]
    assert result.image is not None and result.image.analysis is not None
    assert result.image.compressed_bytes == result.image.analysis.compressed_bytes


def test_without_the_compressed_size_the_analysis_still_runs() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("slim", bench, repeat=1, compressed=False)
    assert bench.analysed == [("dockerfile-bench/slim:run1", "python:3.11-slim", False)]
    assert result.image is not None and result.image.compressed_bytes is None
    assert result.image.analysis is not None


def test_without_analysis_the_compressed_size_comes_from_the_same_pass() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("slim", bench, repeat=1, analyse=False)
    assert len(bench.analysed) == 1
    assert result.image is not None and result.image.analysis is None
    assert result.image.compressed_bytes == 140_000_000


def test_neither_means_no_pass_over_the_image() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("slim", bench, repeat=1, analyse=False, compressed=False)
    assert bench.analysed == []
    assert result.image is not None and result.image.compressed_bytes is None


def test_untimed_work_is_clocked_per_phase() -> None:
    variant = manifest.load().select(["slim"])[0]
    clock = PhaseClock()
    measure_variant(
        FakeWorkbench(),
        variant,
        "run1",
        RunOptions(repeat=2),
        SilentProgress(),
        lambda _: None,
        [],
        clock,
    )
    seconds = dict(clock.totals())
    # Every phase of a variant's untimed work is there; timed builds are not phases.
    assert set(seconds) == {"scratch copies", "layer analysis", "smoke test", "warm-up builds"}
    assert all(value >= 0 for value in seconds.values())


def test_phase_clock_adds_repeated_phases() -> None:
    clock = PhaseClock()
    clock.add("cleanup", 1.25)
    clock.add("setup", 0.5)
    clock.add("cleanup", 0.25)
    assert clock.totals() == (("cleanup", 1.5), ("setup", 0.5))


def test_superseded_cold_images_are_discarded_and_the_measured_one_kept() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("slim", bench, repeat=3)
    assert result.status == "ok"
    # Cold builds 1 and 2 are superseded by build 3, which the tag, the analysis, the smoke
    # test and the cached scenarios use.
    assert len(bench.discarded) == 2
    assert len(set(bench.discarded)) == 2
    # The fake numbers images of builds without the cache by build: -1, -2, -3.
    assert [image.rsplit("-", 1)[1] for image in bench.discarded] == ["1", "2"]


def _measure_in_turn(bench: FakeWorkbench, names: list[str], **options: object) -> None:
    for variant in manifest.load().select(names):
        measure_variant(
            bench,
            variant,
            "run1",
            RunOptions(**options),  # type: ignore[arg-type]
            SilentProgress(),
            lambda _: None,
            [],
        )


def test_earlier_variants_images_are_discarded_during_the_next_analysis() -> None:
    bench = FakeWorkbench()
    _measure_in_turn(bench, ["slim"], repeat=2)
    slim_images = set(bench.built)
    slim_measured = bench.built[1]  # the second cold build: the one the tag is on
    assert bench.discarded == [bench.built[0]]  # the first cold build, during slim's analysis
    _measure_in_turn(bench, ["alpine"], repeat=2)
    # During alpine's analysis: everything slim left, and alpine's first cold build.
    assert slim_images <= set(bench.discarded)
    assert slim_measured in bench.discarded
    alpine_cold = [image for image in bench.built if image not in slim_images][:2]
    assert alpine_cold[0] in bench.discarded
    assert alpine_cold[1] not in bench.discarded  # alpine's measured image is left to cleanup


def test_kept_images_stay_but_superseded_cold_builds_go() -> None:
    bench = FakeWorkbench()
    _measure_in_turn(bench, ["slim", "alpine"], repeat=2, keep_images=True)
    # Only the first of each variant's two cold builds is discarded.
    assert len(bench.discarded) == 2
    assert all(
        image.endswith("-1") or image.rsplit("-", 1)[1].isdigit() for image in bench.discarded
    )
