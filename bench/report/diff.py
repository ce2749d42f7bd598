"""What changed between two analysed images: bytes by kind of group, by package, and the largest
changes. Pure arithmetic over two ImageAnalysis records (their size groups add up to their
sizes, so the kinds' changes add up to the size change); no Docker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import BenchError
from bench.models import GROUP_KINDS, ImageAnalysis, RunResult, VariantResult
from bench.report import markup
from bench.report.layers import KIND_LABELS, kind_totals
from bench.units import format_bytes

# Changes smaller than this are rounding noise in a report (a few bytes of RECORD files).
NOISE_BYTES = 1_000
_LARGEST = 5


@dataclass(frozen=True)
class Change:
    """One group (a kind, or a package, or a wasted path) before and after, in bytes."""

    kind: str
    name: str
    before_bytes: int
    after_bytes: int

    @property
    def delta_bytes(self) -> int:
        """after - before: positive when the second image has more."""
        return self.after_bytes - self.before_bytes


@dataclass(frozen=True)
class KindChange:
    """A kind of group: its total before and after, and the bytes its groups gained and lost.

    added_bytes sums the groups that grew (or are new), removed_bytes those that shrank (or
    are gone), so added - removed is the kind's net change.
    """

    kind: str
    before_bytes: int
    after_bytes: int
    added_bytes: int
    removed_bytes: int

    @property
    def delta_bytes(self) -> int:
        """after - before, which equals added - removed."""
        return self.after_bytes - self.before_bytes


@dataclass(frozen=True)
class ImageDiff:
    """Two analysed images compared: `before` is A, `after` is B."""

    before: str
    after: str
    before_bytes: int
    after_bytes: int
    kinds: tuple[KindChange, ...]
    packages: tuple[Change, ...]
    largest: tuple[Change, ...]
    wasted: tuple[Change, ...]
    before_wasted_bytes: int
    after_wasted_bytes: int

    @property
    def delta_bytes(self) -> int:
        """The size change from A to B (the sum of the kinds' changes)."""
        return self.after_bytes - self.before_bytes


def diff_analyses(
    before_name: str, before: ImageAnalysis, after_name: str, after: ImageAnalysis
) -> ImageDiff:
    """A's and B's size groups matched by (kind, name) and compared."""
    old = {(group.kind, group.name): group.size_bytes for group in before.groups}
    new = {(group.kind, group.name): group.size_bytes for group in after.groups}
    # Keys in A's order, then those only B has, in B's order: stable and readable.
    keys = list(dict.fromkeys([*old, *new]))
    changes = [
        Change(kind, name, old.get((kind, name), 0), new.get((kind, name), 0))
        for kind, name in keys
    ]
    old_totals, new_totals = kind_totals(before), kind_totals(after)
    kinds = tuple(
        KindChange(
            kind,
            old_totals[kind],
            new_totals[kind],
            sum(c.delta_bytes for c in changes if c.kind == kind and c.delta_bytes > 0),
            -sum(c.delta_bytes for c in changes if c.kind == kind and c.delta_bytes < 0),
        )
        for kind in GROUP_KINDS
        if old_totals[kind] or new_totals[kind]
    )
    packages = tuple(
        sorted(
            (c for c in changes if c.kind == "package" and c.delta_bytes),
            key=lambda c: (-abs(c.delta_bytes), c.name),
        )
    )
    largest = tuple(
        sorted(
            (c for c in changes if abs(c.delta_bytes) >= NOISE_BYTES),
            key=lambda c: (-abs(c.delta_bytes), c.kind, c.name),
        )[:_LARGEST]
    )
    # dive's top wasted paths, where both analyses recorded them.
    old_paths = {item.path: item.wasted_bytes for item in before.top_wasted}
    new_paths = {item.path: item.wasted_bytes for item in after.top_wasted}
    wasted = tuple(
        Change("wasted", path, old_paths.get(path, 0), new_paths.get(path, 0))
        for path in dict.fromkeys([*old_paths, *new_paths])
        if old_paths.get(path, 0) != new_paths.get(path, 0)
    )
    return ImageDiff(
        before=before_name,
        after=after_name,
        before_bytes=before.size_bytes,
        after_bytes=after.size_bytes,
        kinds=kinds,
        packages=packages,
        largest=largest,
        wasted=wasted,
        before_wasted_bytes=before.wasted_bytes,
        after_wasted_bytes=after.wasted_bytes,
    )


def analysis_of(run: RunResult, name: str) -> tuple[VariantResult, ImageAnalysis]:
    """A variant of the run and its layer analysis; a BenchError says why there is none."""
    variant = next((v for v in run.variants if v.name == name), None)
    if variant is None:
        known = ", ".join(v.name for v in run.variants) or "none"
        raise BenchError(f"no variant {name!r} in run {run.run_id} (variants: {known})")
    if variant.image is None:
        raise BenchError(f"variant {name!r} has no image: {markup.absent(variant)}")
    if variant.image.analysis is None:
        raise BenchError(f"variant {name!r} has no layer analysis in run {run.run_id}")
    return variant, variant.image.analysis


def diff_variants(run: RunResult, before: str, after: str) -> ImageDiff:
    """The diff between two variants of one run (A = before, B = after)."""
    _, old = analysis_of(run, before)
    _, new = analysis_of(run, after)
    return diff_analyses(before, old, after, new)


def signed_bytes(size_bytes: int) -> str:
    """+6.18 MB, -14.2 kB, 0 B: a change with its sign."""
    if size_bytes == 0:
        return "0 B"
    return ("+" if size_bytes > 0 else "-") + format_bytes(abs(size_bytes))


def render_diff(diff: ImageDiff) -> str:
    """The diff as plain text for the terminal: totals, kinds, packages, largest changes."""
    a, b = diff.before, diff.after
    lines = [
        f"{a} -> {b}: {format_bytes(diff.before_bytes)} -> {format_bytes(diff.after_bytes)} "
        f"({signed_bytes(diff.delta_bytes)}; {diff.delta_bytes:+,} bytes)",
        "",
        "By kind of group (added: groups that grew or are new; removed: that shrank or went):",
        "",
        markup.plain_table(
            ["kind", a, b, "added", "removed", "change"],
            [
                [
                    KIND_LABELS[k.kind],
                    format_bytes(k.before_bytes),
                    format_bytes(k.after_bytes),
                    signed_bytes(k.added_bytes),
                    signed_bytes(-k.removed_bytes),
                    signed_bytes(k.delta_bytes),
                ]
                for k in diff.kinds
            ],
        ),
        "",
        "By installed package:",
        "",
        _changes_table(diff.packages, a, b, "package", "no package changed"),
        "",
        "Largest changes:",
        "",
        _changes_table(diff.largest, a, b, "group", "none of 1.00 kB or more"),
        "",
        f"dive's wasted bytes: {format_bytes(diff.before_wasted_bytes)} -> "
        f"{format_bytes(diff.after_wasted_bytes)}; top wasted paths that changed:",
        "",
        _changes_table(diff.wasted, a, b, "path", "none"),
    ]
    return "\n".join(lines) + "\n"


def _changes_table(changes: Sequence[Change], a: str, b: str, what: str, empty: str) -> str:
    if not changes:
        return f"  {empty}"
    return markup.plain_table(
        [what, a, b, "change"],
        [
            [
                change_label(c),
                format_bytes(c.before_bytes),
                format_bytes(c.after_bytes),
                signed_bytes(c.delta_bytes),
            ]
            for c in changes
        ],
    )


def change_label(change: Change) -> str:
    """A group's name as the diff shows it: `pip (package)`, `bytecode (.pyc)`."""
    return f"{change.name} (package)" if change.kind == "package" else change.name
