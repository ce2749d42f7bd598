"""The size-regression gate as a pure function: results + baseline + budgets -> verdicts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.gate.baseline import Baseline, BaselineLayer
from bench.manifest import Variant
from bench.models import Layer, RunResult, VariantResult

# A step that installs dependencies: re-running it after a code edit is the cache bust the
# naive variant demonstrates.
DEPENDENCY_STEP = re.compile(
    r"\b(pip3? install|python3? -m pip install|poetry install|uv (pip install|sync)|"
    r"pipenv install|conda install|npm (ci|install)|yarn install)\b"
)


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
    status: str  # pass, fail, new, missing
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
        layer_count = sum(1 for layer in result.image.layers if layer.size_bytes > 0)
        if layer_count - base.layer_count > tolerance.max_new_layers:
            reasons.append(
                f"{layer_count - base.layer_count} more layers than the baseline "
                f"(limit {tolerance.max_new_layers})"
            )
        grown = changed_layers(base.layers, result.image.layers)
    if variant is not None:
        if variant.rules.max_layers is not None:
            layer_count = sum(1 for layer in result.image.layers if layer.size_bytes > 0)
            if layer_count > variant.rules.max_layers:
                reasons.append(
                    f"{layer_count} layers, more than max_layers {variant.rules.max_layers}"
                )
        reasons += _cache_regression(result, variant)
    status = "fail" if reasons else ("pass" if base is not None else "new")
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
        rerun = [s.instruction for s in sample.rerun_steps if DEPENDENCY_STEP.search(s.instruction)]
        if rerun:
            return [
                f"a code edit re-ran the dependency step `{rerun[0][:60]}` "
                "(the manifest says it must not)"
            ]
    return []


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
