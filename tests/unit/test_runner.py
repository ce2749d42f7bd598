"""The runner's scenarios with a fake builder: samples, re-run steps, failures as rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bench import manifest
from bench.dependencies import DependencyOverride
from bench.models import BuildOutcome, ImageAnalysis, Sample, VariantResult
from bench.run.analysis_phase import analyse_pending, with_analysis
from bench.run.measure import PendingAnalysis, RunOptions, measure_variant
from bench.run.phases import PhaseClock
from bench.run.progress import SilentProgress
from bench.run.scratch import ScratchCopies
from tests.tree import tree_digest
from tests.unit.fakes import FakeWorkbench, fake_harness

REPO = Path(__file__).resolve().parents[2]


def _measure(
    name: str, bench: FakeWorkbench, **options: object
) -> tuple[VariantResult, list[VariantResult]]:
    """One variant measured, then its image analysed as a run does after its timed work."""
    variant = manifest.load().select([name])[0]
    run_options = RunOptions(**options)  # type: ignore[arg-type]
    harness, handed = fake_harness(bench, run_options)
    result = measure_variant(harness, variant)
    assert harness.scratch.live() == ()  # scratch copies are gone
    assert len(handed.pending) <= 1

    def analysed(item: PendingAnalysis, analysis: ImageAnalysis | None) -> None:
        nonlocal result
        assert result.image is not None
        result = with_analysis(result, analysis, keep_tables=run_options.analyse)

    def crashed(item: PendingAnalysis, error: Exception) -> None:
        raise error

    analyse_pending(
        bench,
        handed.pending,
        compressed=run_options.compressed,
        keep_images=run_options.keep_images,
        on_analysis=analysed,
        on_crash=crashed,
        progress=SilentProgress(),
        clock=PhaseClock(),
    )
    return result, handed.saved


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


def test_the_manifests_dependency_override_is_recorded_with_the_variant() -> None:
    override = DependencyOverride(not_installs=("pip install",))
    variant = replace(manifest.load().select(["naive"])[0], dependency_override=override)
    harness, _ = fake_harness(FakeWorkbench(), RunOptions())
    result = measure_variant(harness, variant)
    assert result.dependency_override == override
    edit = _samples(result, "edit")[0]
    assert edit.reinstalled_dependencies() and not result.reinstalled_dependencies(edit)


def test_noop_rebuild_is_all_cache_hits() -> None:
    result, _ = _measure("slim", FakeWorkbench(), repeat=2)
    for sample in _samples(result, "noop"):
        assert sample.rerun_steps == ()


def test_the_users_tree_is_untouched() -> None:
    before = tree_digest(REPO / "variants", without_pycache=True)
    _measure("naive", FakeWorkbench(), repeat=2)
    assert tree_digest(REPO / "variants", without_pycache=True) == before


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
    # One `docker save` pass per variant, of its last cold build, on the final stage's base.
    last_cold = [image for image in bench.built if image.endswith("-3")]
    assert bench.analysed == [(last_cold[0], "python:3.11-slim", True)]
    assert result.image is not None and result.image.analysis is not None
    assert result.image.compressed_bytes == result.image.analysis.compressed_bytes


def test_without_the_compressed_size_the_analysis_still_runs() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("slim", bench, repeat=1, compressed=False)
    assert bench.analysed == [(bench.built[0], "python:3.11-slim", False)]
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
    harness, _ = fake_harness(FakeWorkbench(), RunOptions(repeat=2), clock)
    measure_variant(harness, variant)
    seconds = dict(clock.totals())
    # Every phase of a variant's untimed work is there; timed builds are not phases, and
    # the layer analysis comes after every variant's (bench/run/analysis_phase.py).
    assert set(seconds) == {"scratch copies", "smoke test", "warm-up builds"}
    assert all(value >= 0 for value in seconds.values())


def test_phase_clock_adds_repeated_phases() -> None:
    clock = PhaseClock()
    clock.add("cleanup", 1.25)
    clock.add("setup", 0.5)
    clock.add("cleanup", 0.25)
    assert clock.totals() == (("cleanup", 1.5), ("setup", 0.5))


def test_without_the_cold_scenario_one_build_makes_the_image() -> None:
    bench = FakeWorkbench()
    result, _ = _measure("slim", bench, repeat=3, scenarios=("noop",))
    assert [nocache for _, nocache in bench.builds].count(True) == 1
    assert result.status == "ok" and result.image is not None
    assert {s.scenario for s in result.samples} == {"noop"}


def test_an_interrupt_mid_variant_still_removes_its_scratch_copy() -> None:
    class Interrupted(FakeWorkbench):
        def build(
            self,
            context_dir: Path,
            dockerfile: Path,
            tag: str,
            *,
            nocache: bool,
            on_step: Callable[[str], None] | None = None,
        ) -> BuildOutcome:
            if not nocache:
                raise KeyboardInterrupt
            return super().build(context_dir, dockerfile, tag, nocache=nocache, on_step=on_step)

    variant = manifest.load().select(["slim"])[0]
    bench = Interrupted()
    harness, handed = fake_harness(bench, RunOptions(repeat=1))
    with pytest.raises(KeyboardInterrupt):
        measure_variant(harness, variant)
    assert harness.scratch.live() == ()
    assert bench.contexts and not bench.contexts[0].exists()
    # The cold build was done: its image is already the run's to analyse.
    assert [item.image_id for item in handed.pending] == bench.built


def test_the_session_removes_a_copy_whose_block_never_ended(tmp_path: Path) -> None:
    (tmp_path / "context").mkdir()
    (tmp_path / "context" / "file").write_text("x")
    copies = ScratchCopies("run1", PhaseClock())
    opened = copies.copy(tmp_path / "context")
    scratch = opened.__enter__()  # as if an interrupt had stopped the block in between
    assert (scratch / "file").read_text() == "x" and copies.live() == (scratch,)
    copies.remove_all()
    assert copies.live() == () and not scratch.exists()
    opened.__exit__(None, None, None)  # a block that ends after all is no error
