"""The size-regression gate as a pure function: results + baseline + budgets -> verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bench.gate.baseline import Baseline, BaselineLayer
from bench.manifest import LayerRules, Variant
from bench.models import ImageResult, Layer, RunResult, VariantResult
from bench.units import format_bytes

VerdictStatus = Literal["pass", "fail", "new", "missing"]


@dataclass(frozen=True)
class Tolerance:
    """Growth allowed before a variant fails: the larger of a share and a floor."""

    share: float = 0.05
    min_bytes: int = 5_000_000
    max_new_layers: int = 2

    def allowed_growth_bytes(self, baseline_bytes: int) -> int:
        return max(round(baseline_bytes * self.share), self.min_bytes)


@dataclass(frozen=True)
class LayerChange:
    instruction: str
    baseline_bytes: int | None  # None: the layer is new
    current_bytes: int

    @property
    def delta_bytes(self) -> int:
        return self.current_bytes - (self.baseline_bytes or 0)


@dataclass(frozen=True)
class Verdict:
    variant: str
    status: VerdictStatus
    baseline_bytes: int | None
    current_bytes: int | None
    budget_bytes: int | None
    reasons: tuple[str, ...] = ()
    grown_layers: tuple[LayerChange, ...] = ()

    @property
    def delta_bytes(self) -> int | None:
        if self.baseline_bytes is None or self.current_bytes is None:
            return None
        return self.current_bytes - self.baseline_bytes

    @property
    def delta_share(self) -> float | None:
        delta = self.delta_bytes
        if delta is None or not self.baseline_bytes:
            return None
        return delta / self.baseline_bytes


@dataclass(frozen=True)
class CheckResult:
    verdicts: tuple[Verdict, ...]

    @property
    def failed(self) -> bool:
        return any(v.status == "fail" for v in self.verdicts)


def check(
    run: RunResult,
    baseline: Baseline | None,
    budgets: Mapping[str, Variant],
    tolerance: Tolerance = Tolerance(),
) -> CheckResult:
    """One verdict per variant in the results or in the baseline."""
    verdicts = [
        _verdict(result, baseline, budgets.get(result.name), tolerance) for result in run.variants
    ]
    if baseline is not None:
        measured = {v.name for v in run.variants}
        verdicts += [
            Verdict(
                b.name,
                "missing",
                b.size_bytes,
                None,
                _budget(budgets.get(b.name)),
                ("in the baseline but not in these results",),
            )
            for b in baseline.variants
            if b.name not in measured
        ]
    return CheckResult(tuple(verdicts))


def _budget(variant: Variant | None) -> int | None:
    return variant.size_budget_bytes if variant else None


def _verdict(
    result: VariantResult, baseline: Baseline | None, variant: Variant | None, tolerance: Tolerance
) -> Verdict:
    budget = _budget(variant)
    base = baseline.variant(result.name) if baseline else None
    if result.image is None:
        return Verdict(
            result.name,
            "fail",
            base.size_bytes if base else None,
            None,
            budget,
            (f"no image to check: {result.reason or result.status}",),
        )
    size = result.image.size_bytes
    reasons: list[str] = []
    if budget is not None and size > budget:
        reasons.append(f"exceeds its budget by {size - budget:,} bytes")
    grown: tuple[LayerChange, ...] = ()
    if base is not None:
        allowed = tolerance.allowed_growth_bytes(base.size_bytes)
        if size - base.size_bytes > allowed:
            reasons.append(
                f"grew {size - base.size_bytes:,} bytes, more than the {allowed:,} allowed"
            )
        layer_count = result.image.layers_with_bytes
        if layer_count - base.layer_count > tolerance.max_new_layers:
            reasons.append(
                f"{layer_count - base.layer_count} more layers than the baseline "
                f"(limit {tolerance.max_new_layers})"
            )
        grown = changed_layers(base.layers, result.image.layers)
    if variant is not None:
        reasons += layer_rule_failures(result.image, variant.rules)
        reasons += _cache_regression(result, variant)
    status: VerdictStatus = "fail" if reasons else ("pass" if base is not None else "new")
    if base is None and not reasons:
        reasons.append("no baseline for this variant yet")
    return Verdict(
        result.name,
        status,
        base.size_bytes if base else None,
        size,
        budget,
        tuple(reasons),
        grown if status == "fail" else (),
    )


def _cache_regression(result: VariantResult, variant: Variant) -> list[str]:
    if variant.deps_rerun_on_edit:
        return []
    for sample in result.samples:
        if sample.scenario != "edit" or not sample.ok:
            continue
        rerun = result.reinstalled_dependencies(sample)
        if rerun:
            return [
                f"a code edit re-ran the dependency step `{rerun[0].instruction[:60]}` "
                "(the manifest says it must not)"
            ]
    return []


def layer_rule_failures(image: ImageResult, rules: LayerRules) -> list[str]:
    """The manifest's dive-style rules (dive --ci: lowestEfficiency, highestWastedBytes,
    highestUserWastedPercent) that the image breaks; a rule that is set but cannot be
    checked, for want of a layer analysis, fails too rather than passing unseen."""
    failures = []
    if rules.max_layers is not None and image.layers_with_bytes > rules.max_layers:
        failures.append(
            f"{image.layers_with_bytes} layers, more than max_layers {rules.max_layers}"
        )
    wanted = [
        name
        for name in ("min_efficiency", "max_wasted_bytes", "max_wasted_share")
        if getattr(rules, name) is not None
    ]
    analysis = image.analysis
    if analysis is None:
        return failures + [
            f"{name} is set but the image has no layer analysis to check it against"
            for name in wanted
        ]
    if rules.min_efficiency is not None and analysis.efficiency < rules.min_efficiency:
        failures.append(
            f"efficiency {analysis.efficiency:.2%}, below min_efficiency {rules.min_efficiency:.2%}"
        )
    if rules.max_wasted_bytes is not None and analysis.wasted_bytes > rules.max_wasted_bytes:
        failures.append(
            f"{format_bytes(analysis.wasted_bytes)} wasted, more than max_wasted_bytes "
            f"{format_bytes(rules.max_wasted_bytes)}"
        )
    if rules.max_wasted_share is not None:
        # dive's share: wasted bytes over the bytes of every layer but the first.
        user_bytes = sum(layer.size_bytes for layer in analysis.layers[1:])
        share = analysis.wasted_bytes / user_bytes if user_bytes else 0.0
        if share > rules.max_wasted_share:
            failures.append(
                f"{share:.2%} of the bytes added on top of the first layer wasted, more "
                f"than max_wasted_share {rules.max_wasted_share:.2%}"
            )
    return failures


def changed_layers(
    baseline: Sequence[BaselineLayer], current: Sequence[Layer], min_growth_bytes: int = 1_000_000
) -> tuple[LayerChange, ...]:
    """Layers that appeared or grew, matched to the baseline's by instruction, in order."""
    remaining: dict[str, list[int]] = {}
    for old in baseline:
        remaining.setdefault(_normal(old.instruction), []).append(old.size_bytes)
    changes = []
    for layer in current:
        previous = remaining.get(_normal(layer.instruction))
        before = previous.pop(0) if previous else None
        if before is None and layer.size_bytes > 0:
            changes.append(LayerChange(layer.instruction, None, layer.size_bytes))
        elif before is not None and layer.size_bytes - before >= min_growth_bytes:
            changes.append(LayerChange(layer.instruction, before, layer.size_bytes))
    return tuple(sorted(changes, key=lambda c: -c.delta_bytes))


def _normal(instruction: str) -> str:
    return " ".join(instruction.split())
