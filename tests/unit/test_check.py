"""The size gate on recorded results: growth, budgets, layers, cache, new/missing, bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench import manifest, storage
from bench.cli import main
from bench.dependencies import DependencyOverride
from bench.gate import baseline as baseline_module
from bench.gate.render import render_markdown, render_terminal
from bench.gate.rules import Tolerance, check
from bench.models import ImageAnalysis, Layer, RunResult, VariantResult
from tests.unit.sample_results import sample_run

VARIANTS = {v.name: v for v in manifest.load().variants}


def _ok_run() -> RunResult:
    run = sample_run()
    return replace(run, variants=tuple(v for v in run.variants if v.status == "ok"))


def _grow(run: RunResult, name: str, layer_bytes: int, instruction: str = "RUN bloat") -> RunResult:
    def grown(variant: VariantResult) -> VariantResult:
        if variant.name != name or variant.image is None:
            return variant
        image = replace(
            variant.image,
            size_bytes=variant.image.size_bytes + layer_bytes,
            layers=(*variant.image.layers, Layer(instruction, layer_bytes)),
        )
        return replace(variant, image=image)

    return replace(run, variants=tuple(grown(v) for v in run.variants))


def _verdict(result: object, name: str) -> object:
    return next(v for v in result.verdicts if v.variant == name)  # type: ignore[attr-defined]


def test_same_sizes_pass() -> None:
    run = _ok_run()
    result = check(run, baseline_module.from_run(run), VARIANTS)
    assert not result.failed
    assert {v.status for v in result.verdicts} == {"pass"}


def test_growth_inside_the_tolerance_passes() -> None:
    run = _ok_run()
    base = baseline_module.from_run(run)
    result = check(_grow(run, "slim", 4_000_000), base, VARIANTS)
    assert not result.failed


def test_a_smaller_baseline_fails_and_names_the_variant_and_layer() -> None:
    run = _ok_run()
    base = baseline_module.from_run(run)
    result = check(
        _grow(run, "slim", 30_000_000, "RUN head -c 30000000 /dev/urandom > /x"), base, VARIANTS
    )
    assert result.failed
    slim = _verdict(result, "slim")
    assert slim.status == "fail"  # type: ignore[attr-defined]
    assert slim.grown_layers[0].instruction.startswith("RUN head -c")  # type: ignore[attr-defined]
    text = render_terminal(result)
    assert "slim: grew 30,000,000 bytes" in text and "RUN head -c 30000000" in text
    assert "size check FAILED" in text
    markdown = render_markdown(result, "reports/baseline.json")
    assert "❌" in markdown and "`RUN head -c 30000000 /dev/urandom > /x`" in markdown


def test_a_grown_existing_layer_is_matched_by_instruction() -> None:
    run = _ok_run()
    base = baseline_module.from_run(run)
    slim = next(v for v in run.variants if v.name == "slim")
    assert slim.image is not None
    pip_layer = max(slim.image.layers, key=lambda layer: layer.size_bytes)
    bigger = tuple(
        replace(layer, size_bytes=layer.size_bytes + 30_000_000) if layer is pip_layer else layer
        for layer in slim.image.layers
    )
    grown = replace(
        slim,
        image=replace(slim.image, layers=bigger, size_bytes=slim.image.size_bytes + 30_000_000),
    )
    run = replace(run, variants=tuple(grown if v.name == "slim" else v for v in run.variants))
    change = _verdict(check(run, base, VARIANTS), "slim").grown_layers[0]  # type: ignore[attr-defined]
    assert change.instruction == pip_layer.instruction
    assert change.baseline_bytes == pip_layer.size_bytes and change.delta_bytes == 30_000_000


def test_budget_breach_fails_even_without_growth() -> None:
    run = _ok_run()
    tight = {**VARIANTS, "slim": replace(VARIANTS["slim"], size_budget_bytes=1_000)}
    result = check(run, baseline_module.from_run(run), tight)
    assert "exceeds its budget" in " ".join(_verdict(result, "slim").reasons)  # type: ignore[attr-defined]
    assert result.failed


def test_layer_count_limit() -> None:
    run = _ok_run()
    base = baseline_module.from_run(run)
    for index in range(3):
        run = _grow(run, "slim", 10, f"RUN touch /x{index}")
    result = check(run, base, VARIANTS, Tolerance(max_new_layers=2))
    assert "3 more layers than the baseline (limit 2)" in _verdict(result, "slim").reasons  # type: ignore[attr-defined]


def test_new_and_missing_variants_are_reported_not_crashed_on() -> None:
    run = _ok_run()
    base = baseline_module.from_run(run)
    fewer = replace(run, variants=tuple(v for v in run.variants if v.name != "slim"))
    result = check(fewer, base, VARIANTS)
    assert _verdict(result, "slim").status == "missing"  # type: ignore[attr-defined]
    assert not result.failed
    smaller_base = replace(base, variants=tuple(v for v in base.variants if v.name != "full"))
    result = check(run, smaller_base, VARIANTS)
    assert _verdict(result, "full").status == "new"  # type: ignore[attr-defined]


def test_dependency_reinstall_after_edit_fails_unless_declared() -> None:
    run = sample_run()
    naive = next(v for v in run.variants if v.name == "naive")
    renamed = replace(naive, name="slim")  # slim's manifest says edits must not reinstall
    rerun = replace(run, variants=(renamed,))
    result = check(rerun, None, VARIANTS)
    assert any("re-ran the dependency step" in r for r in _verdict(result, "slim").reasons)  # type: ignore[attr-defined]
    assert not check(replace(run, variants=(naive,)), None, VARIANTS).failed


def test_the_manifests_dependency_override_is_what_the_gate_applies() -> None:
    # The run recorded that this variant's `pip install -r` step does not install
    # dependencies (say, a wheelhouse of the project's own): the same edit passes the gate.
    run = sample_run()
    naive = next(v for v in run.variants if v.name == "naive")
    override = DependencyOverride(not_installs=("pip install",))
    renamed = replace(naive, name="slim", dependency_override=override)
    assert not check(replace(run, variants=(renamed,)), None, VARIANTS).failed


def _write(tmp_path: Path, run: RunResult) -> Path:
    path = tmp_path / f"{run.run_id}.json"
    storage.save(run, path)
    return path


def test_cli_exit_codes_and_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _ok_run()
    results = _write(tmp_path, run)
    base = tmp_path / "baseline.json"
    assert main(["baseline", "update", str(results), "--baseline", str(base)]) == 0
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", str(results), "--baseline", str(base)]) == 0
    grown = _write(tmp_path, replace(_grow(run, "slim", 30_000_000), run_id="20991231T000000Z-x"))
    assert main(["check", str(grown), "--baseline", str(base)]) == 1
    assert summary.read_text().count("### ") == 2
    capsys.readouterr()


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "not a readable baseline"),
        (
            json.dumps({"schema_version": 99}),
            "written by a newer dockerfile-bench (baseline schema 99",
        ),
        (json.dumps({"schema_version": 1}), "not a valid baseline"),
    ],
)
def test_bad_baseline_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    results = _write(tmp_path, _ok_run())
    base = tmp_path / "baseline.json"
    base.write_text(content)
    assert main(["check", str(results), "--baseline", str(base)]) == 2
    error = capsys.readouterr().err
    assert expected in error and str(base) in error and len(error.strip().splitlines()) == 1


def _slim_with_rules(**rules: Any) -> dict[str, manifest.Variant]:
    slim = VARIANTS["slim"]
    return {**VARIANTS, "slim": replace(slim, rules=replace(slim.rules, **rules))}


def _slim_analysis(run: RunResult) -> ImageAnalysis:
    slim = next(v for v in run.variants if v.name == "slim")
    assert slim.image is not None and slim.image.analysis is not None
    return slim.image.analysis


def test_min_efficiency_is_dives_lowest_efficiency() -> None:
    run = _ok_run()
    efficiency = _slim_analysis(run).efficiency
    at_limit = check(run, None, _slim_with_rules(min_efficiency=efficiency))
    assert not at_limit.failed
    above = check(run, None, _slim_with_rules(min_efficiency=min(1.0, efficiency + 0.001)))
    reasons = _verdict(above, "slim").reasons  # type: ignore[attr-defined]
    assert above.failed
    assert any("below min_efficiency" in reason for reason in reasons), reasons


def test_max_wasted_bytes_is_dives_highest_wasted_bytes() -> None:
    run = _ok_run()
    wasted = _slim_analysis(run).wasted_bytes
    assert wasted > 0
    assert not check(run, None, _slim_with_rules(max_wasted_bytes=wasted)).failed
    over = check(run, None, _slim_with_rules(max_wasted_bytes=wasted - 1))
    reasons = _verdict(over, "slim").reasons  # type: ignore[attr-defined]
    assert over.failed
    assert any("more than max_wasted_bytes" in reason for reason in reasons), reasons


def test_max_wasted_share_is_over_the_bytes_above_the_first_layer() -> None:
    run = _ok_run()
    analysis = _slim_analysis(run)
    # dive's highestUserWastedPercent: wasted bytes over every layer's bytes but the first.
    user_bytes = sum(layer.size_bytes for layer in analysis.layers[1:])
    share = analysis.wasted_bytes / user_bytes
    assert share != analysis.wasted_bytes / analysis.size_bytes
    assert not check(run, None, _slim_with_rules(max_wasted_share=share)).failed
    over = check(run, None, _slim_with_rules(max_wasted_share=share * 0.99))
    reasons = _verdict(over, "slim").reasons  # type: ignore[attr-defined]
    assert over.failed
    assert any("more than max_wasted_share" in reason for reason in reasons), reasons


def test_a_layer_rule_without_an_analysis_fails_instead_of_passing_unseen() -> None:
    run = _ok_run()

    def unanalysed(variant: VariantResult) -> VariantResult:
        if variant.image is None:
            return variant
        return replace(variant, image=replace(variant.image, analysis=None))

    bare = replace(run, variants=tuple(unanalysed(v) for v in run.variants))
    assert not check(bare, None, VARIANTS).failed  # no rule set: nothing to check
    result = check(bare, None, _slim_with_rules(min_efficiency=0.5, max_wasted_share=0.1))
    reasons = _verdict(result, "slim").reasons  # type: ignore[attr-defined]
    assert result.failed
    assert "min_efficiency is set but the image has no layer analysis to check it against" in (
        reasons
    )
    assert any(reason.startswith("max_wasted_share is set") for reason in reasons)


def test_the_layer_count_rule_counts_layers_with_bytes() -> None:
    run = _ok_run()
    slim = next(v for v in run.variants if v.name == "slim")
    assert slim.image is not None
    with_bytes = slim.image.layers_with_bytes
    assert 0 < with_bytes < len(slim.image.layers)  # metadata steps add no layer
    assert not check(run, None, _slim_with_rules(max_layers=with_bytes)).failed
    result = check(run, None, _slim_with_rules(max_layers=with_bytes - 1))
    assert f"{with_bytes} layers, more than max_layers {with_bytes - 1}" in (
        _verdict(result, "slim").reasons  # type: ignore[attr-defined]
    )
