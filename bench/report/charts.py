"""PNG charts for the report: image size stacked by group, and build times per scenario.

Drawn with matplotlib's Agg backend on Figure objects (no pyplot, no display, no global
state), written next to latest.md and linked from it by relative path.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from bench import storage
from bench.models import BUILD_SCENARIOS, GROUP_KINDS, SCENARIO_LABELS, RunResult, VariantResult
from bench.report.layers import KIND_LABELS, kind_totals
from bench.stats import summarize

SIZE_CHART = "size-by-group.png"
TIMING_CHART = "build-times.png"
_SCENARIOS = tuple((scenario, SCENARIO_LABELS[scenario]) for scenario in BUILD_SCENARIOS)
_DPI = 100


def write_charts(runs: Sequence[RunResult], report_dir: Path, prefix: str = "") -> dict[str, str]:
    """Charts for these runs in `report_dir`, their names after `prefix`: {report section:
    file name}; none without data."""
    charts: dict[str, str] = {}
    size = size_chart(runs)
    if size is not None:
        storage.write_bytes_atomic(report_dir / (prefix + SIZE_CHART), size)
        charts["groups"] = prefix + SIZE_CHART
    timing = timing_chart(runs)
    if timing is not None:
        storage.write_bytes_atomic(report_dir / (prefix + TIMING_CHART), timing)
        charts["timing"] = prefix + TIMING_CHART
    return charts


def _label(run: RunResult, variant: VariantResult, several: bool) -> str:
    return f"{variant.name}\n{run.run_id}" if several else variant.name


def size_chart(runs: Sequence[RunResult]) -> bytes | None:
    """Horizontal bars, one per analysed variant, stacked by kind of group (MB)."""
    several = len(runs) > 1
    bars = [
        (_label(run, variant, several), kind_totals(variant.image.analysis))
        for run in runs
        for variant in run.variants
        if variant.image is not None and variant.image.analysis is not None
    ]
    if not bars:
        return None
    kinds = [kind for kind in GROUP_KINDS if any(totals[kind] for _, totals in bars)]
    figure = Figure(figsize=(9, 1.2 + 0.6 * len(bars)), dpi=_DPI)
    axes = figure.add_subplot()
    positions = list(range(len(bars)))[::-1]  # first variant on top
    left = [0.0] * len(bars)
    for kind in kinds:
        widths = [totals[kind] / 1e6 for _, totals in bars]
        axes.barh(positions, widths, left=left, label=KIND_LABELS[kind], height=0.6)
        left = [start + width for start, width in zip(left, widths, strict=True)]
    axes.set_yticks(positions, [label for label, _ in bars])
    axes.set_xlabel("MB (10^6 bytes), as read from the image's layers")
    axes.set_title("Image size by what it is")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    return _png(figure)


def timing_chart(runs: Sequence[RunResult]) -> bytes | None:
    """Grouped bars: the median of each scenario per variant, min-max as error bars."""
    several = len(runs) > 1
    labels: list[str] = []
    medians: dict[str, list[float]] = {scenario: [] for scenario, _ in _SCENARIOS}
    low: dict[str, list[float]] = {scenario: [] for scenario, _ in _SCENARIOS}
    high: dict[str, list[float]] = {scenario: [] for scenario, _ in _SCENARIOS}
    for run in runs:
        for variant in run.variants:
            summaries = {
                scenario: summarize(
                    s.duration_seconds
                    for s in variant.samples
                    if s.scenario == scenario and s.ok and s.duration_seconds is not None
                )
                for scenario, _ in _SCENARIOS
            }
            if all(summary is None for summary in summaries.values()):
                continue
            labels.append(_label(run, variant, several))
            for scenario, summary in summaries.items():
                # A missing scenario is drawn as no bar (NaN), never as zero seconds.
                median = summary.median if summary else float("nan")
                medians[scenario].append(median)
                low[scenario].append(median - summary.minimum if summary else 0.0)
                high[scenario].append(summary.maximum - median if summary else 0.0)
    if not labels:
        return None
    figure = Figure(figsize=(max(6.0, 1.3 * len(labels) + 2), 4.5), dpi=_DPI)
    axes = figure.add_subplot()
    width = 0.8 / len(_SCENARIOS)
    for offset, (scenario, title) in enumerate(_SCENARIOS):
        positions = [i + (offset - 1) * width for i in range(len(labels))]
        axes.bar(
            positions,
            medians[scenario],
            width=width,
            yerr=[low[scenario], high[scenario]],
            capsize=3,
            label=title,
        )
    axes.set_yscale("log")  # cold builds take seconds, no-op rebuilds milliseconds
    if several:
        # "name\nrun id" labels are wider than a group of bars: slanted, they do not overlap.
        axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    else:
        axes.set_xticks(range(len(labels)), labels)
    axes.set_ylabel("seconds (median; bars: min-max), log scale")
    axes.set_title("Build time per variant and scenario")
    # Under the slanted labels, whatever their height, when there are several runs.
    anchor = (0.5, -0.12) if not several else (0.5, -0.45)
    axes.legend(loc="upper center", bbox_to_anchor=anchor, ncol=3, frameon=False)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" stamp: the same results give the same bytes on any matplotlib.
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()
