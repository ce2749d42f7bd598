"""The gate's output: a table for the terminal and markdown for a pull-request comment."""

from __future__ import annotations

from bench.gate.rules import CheckResult, Verdict
from bench.report.markup import pipe_table, plain_table
from bench.units import format_bytes

_HEADER = ["variant", "baseline", "current", "change", "budget", "verdict"]


def _row(verdict: Verdict) -> list[str]:
    delta, share = verdict.delta_bytes, verdict.delta_share
    change = (
        "n/a (no baseline)"
        if delta is None
        else (
            f"{'+' if delta >= 0 else ''}{format_bytes(delta)}"
            + (f" ({share * 100:+.1f} %)" if share is not None else "")
        )
    )
    return [
        verdict.variant,
        format_bytes(verdict.baseline_bytes) if verdict.baseline_bytes is not None else "none",
        format_bytes(verdict.current_bytes) if verdict.current_bytes is not None else "not built",
        change,
        format_bytes(verdict.budget_bytes) if verdict.budget_bytes is not None else "none",
        verdict.status.upper(),
    ]


def _details(result: CheckResult, code: str = "") -> list[str]:
    lines = []
    for verdict in result.verdicts:
        if verdict.status not in ("fail", "missing"):
            continue
        for reason in verdict.reasons:
            lines.append(f"{verdict.variant}: {reason}")
        for layer in verdict.grown_layers[:5]:
            what = (
                "new layer"
                if layer.baseline_bytes is None
                else f"grew from {format_bytes(layer.baseline_bytes)}"
            )
            lines.append(
                f"  {verdict.variant}: {code}{layer.instruction[:90]}{code} "
                f"+{format_bytes(layer.delta_bytes)} ({what})"
            )
    return lines


def render_terminal(result: CheckResult) -> str:
    """The verdicts as a terminal table, why a variant failed, and the overall result."""
    table = plain_table(_HEADER, [_row(v) for v in result.verdicts])
    verdict = "FAILED: a variant regressed" if result.failed else "passed"
    return "\n".join([table, "", *_details(result), f"size check {verdict}"]) + "\n"


def render_markdown(result: CheckResult, baseline_name: str) -> str:
    """The verdicts as a pull-request comment: title, table, and why a variant failed."""
    table = pipe_table(_HEADER, [_row(v) for v in result.verdicts])
    title = "❌ Image size check failed" if result.failed else "✅ Image size check passed"
    details = _details(result, code="`")
    lines = [f"### {title}", "", f"Compared with `{baseline_name}`.", "", table, ""]
    if details:
        lines += ["Why:", "", *[f"- {line.strip()}" for line in details], ""]
    return "\n".join(lines)
