"""Report sections from the layer analysis: what is big, per variant, and each layer.

They use bench/report/markup.py's cell helpers, so the tables read like the others: every cell
says something, a missing record says why.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.layers.findings import MIN_BYTES, describe
from bench.layers.size_groups import GROUP_NAMES, shown_groups
from bench.models import GROUP_KINDS, ImageAnalysis, RunResult, SizeGroup, VariantResult
from bench.report import markup
from bench.report.markup import Row
from bench.units import format_bytes, format_percent

KIND_LABELS = {"base": "base image", "package": "packages", **GROUP_NAMES}
_TOP_PACKAGES = 3
_TOP_PACKAGES_SHOWN = 8
_INSTRUCTION_CHARS = 70


def kind_totals(analysis: ImageAnalysis) -> dict[str, int]:
    """Bytes per group kind (all distributions together), in GROUP_KINDS order."""
    totals = dict.fromkeys(GROUP_KINDS, 0)
    for group in analysis.groups:
        totals[group.kind] += group.size_bytes
    return totals


# What is big -----------------------------------------------------------------------------------


_KIND_MEANINGS = {
    "base": "everything in the layers the final stage's base image has",
    "runtime": "the interpreter and its standard library (`/usr/lib/python3.X`, "
    "`/usr/local/lib/python3.X`, without site-packages) added on top of the base",
    "package": "installed distributions (in site-packages or dist-packages, told apart "
    "by pip's `RECORD` files or their top-level names), bytecode, tests and docs excepted",
    "pip-cache": "`~/.cache/pip` in any home directory",
    "apt": "`/var/cache/apt` and `/var/lib/apt/lists`",
    "bytecode": "compiled bytecode (`.pyc` files, in `__pycache__` or elsewhere)",
    "tests-docs": "`tests`, `test`, `doc` and `docs` directories inside site-packages",
    "app": "the image's `WORKDIR`, or the directory given as the app's",
    "other": "everything else added on top of the base",
}


def groups_section(rows: list[Row], with_run: bool) -> str:
    """One row per variant: its bytes by kind of group, and its largest packages."""
    analyses = [v.image.analysis for _, v in rows if v.image and v.image.analysis]
    # Kinds no image has bytes in would be columns of zeros.
    kinds = [k for k in GROUP_KINDS if any(kind_totals(a)[k] for a in analyses)] or ["base"]

    def cells(_run: RunResult, variant: VariantResult) -> list[str]:
        analysis = variant.image.analysis if variant.image else None
        if analysis is None:
            return [_not_analysed(variant)] * (len(kinds) + 1)
        totals = kind_totals(analysis)
        packages = [group for group in analysis.groups if group.kind == "package"]
        largest = ", ".join(
            f"{group.name} {format_bytes(group.size_bytes)}" for group in packages[:_TOP_PACKAGES]
        )
        return [format_bytes(totals[kind]) for kind in kinds] + [largest or "none"]

    columns = [*(KIND_LABELS[kind] for kind in kinds), "largest packages"]
    table = markup.variant_table(rows, with_run, columns, cells)
    return markup.section(
        "What is big",
        "Every byte of each image, by what it is. Files are read from the image's layers "
        "(`docker save`); a file a later layer deletes still counts, in the layer that "
        "added it, since that is where its bytes are. The columns add up to the analysed "
        "size (see Layers per variant); kinds of file no image has are left out.",
        table,
        markup.definitions(
            *((KIND_LABELS[kind], _KIND_MEANINGS[kind]) for kind in kinds),
            ("largest packages", f"the {_TOP_PACKAGES} largest distributions"),
        ),
    )


# Layers per variant ----------------------------------------------------------------------------


def layers_section(rows: list[Row], with_run: bool) -> str:
    """Per variant: the layer table, dive's numbers, wasted paths, groups and findings."""
    parts = []
    for run, variant in rows:
        title = f"### {markup.where(run, variant, with_run)}"
        analysis = variant.image.analysis if variant.image else None
        if analysis is None:
            parts.append(f"{title}\n\nNo layer analysis ({_not_analysed(variant)}).")
            continue
        parts.append(_variant_layers(title, variant, analysis))
    return markup.section(
        "Layers per variant",
        "Each image read once from `docker save`, layer by layer: what every layer added, "
        "changed and removed, dive's efficiency and wasted bytes, what is big and what "
        "could go. The definitions come first; the variants follow.",
        markup.definitions(
            ("#", "the layer's index, bottom (0) to top, as dive numbers them"),
            (
                "instruction",
                "the history entry that made the layer; `(base)` marks the base image's",
            ),
            (
                "size",
                "the sizes in the layer's tar headers (as dive counts them); the engine's "
                "image size also counts each symlink's target path, which tar headers "
                "give as 0",
            ),
            ("compressed", "the layer gzip-compressed (level 6), as a registry stores it"),
            ("added / changed", "files (not directories) new in the layer / already there below"),
            (
                "removed",
                "files of lower layers the layer deletes (whiteouts, opaque directories)",
            ),
            (
                "efficiency",
                "dive's score: the sum of each path's smallest size over all layers, "
                "divided by the sum of all its sizes (100 % when nothing is duplicated)",
            ),
            (
                "wasted",
                "dive's wasted bytes: for every path present in two or more layers (as a "
                "file, or a whiteout that deletes it), all its sizes summed",
            ),
            (
                "findings",
                f"caches left in, or files deleted or replaced by, the Dockerfile's own "
                f"layers, each at least {format_bytes(MIN_BYTES)}",
            ),
        ),
        *parts,
    )


def _variant_layers(title: str, variant: VariantResult, analysis: ImageAnalysis) -> str:
    engine_bytes = variant.image.size_bytes if variant.image is not None else None
    blocks = [title, _summary(analysis, engine_bytes), _layer_table(analysis)]
    if analysis.top_wasted:
        blocks.append(
            "Top wasted paths (dive's inefficient files):\n\n"
            + markup.pipe_table(
                ["path", "wasted", "layers"],
                [
                    [
                        markup.code(item.path, 80),
                        format_bytes(item.wasted_bytes),
                        str(item.layer_count),
                    ]
                    for item in analysis.top_wasted
                ],
            )
        )
    blocks.append("What is big:\n\n" + _group_table(analysis.groups, analysis.size_bytes))
    instructions = [layer.instruction for layer in analysis.layers]
    found = [f"- {describe(finding, instructions)}" for finding in analysis.findings]
    blocks.append(
        "Findings:\n\n" + "\n".join(found)
        if found
        else "Findings: none (no pip or apt cache and nothing deleted or replaced later, "
        f"of {format_bytes(MIN_BYTES)} or more, in the Dockerfile's own layers)."
    )
    return "\n\n".join(blocks)


def _summary(analysis: ImageAnalysis, engine_bytes: int | None) -> str:
    size = f"{format_bytes(analysis.size_bytes)} analysed"
    if engine_bytes is not None:
        extra = engine_bytes - analysis.size_bytes
        size += f", {format_bytes(engine_bytes)} as the engine counts it"
        if extra == analysis.symlink_bytes:
            size += f" (+{extra:,} bytes: the length of symlink targets)"
        else:
            size += f" ({extra:+,} bytes; symlink targets: {analysis.symlink_bytes:,})"
    if analysis.compressed_bytes is not None:
        size += f"; {format_bytes(analysis.compressed_bytes)} compressed"
    base = (
        f"layers 0-{analysis.base_layer_count - 1}"
        if analysis.base_layer_count
        else "none recognised"
    )
    return "\n".join(
        [
            f"- **efficiency**: {analysis.efficiency * 100:.4f} %; **wasted**: "
            f"{format_bytes(analysis.wasted_bytes)} ({analysis.wasted_bytes:,} bytes)",
            f"- **size**: {size}",
            f"- **base image**: {base}; **app**: `{analysis.app_dir or 'none'}`",
        ]
    )


def _layer_table(analysis: ImageAnalysis) -> str:
    body = []
    for layer in analysis.layers:
        instruction = (
            markup.code(layer.instruction, _INSTRUCTION_CHARS)
            if layer.instruction
            else "(no history)"
        )
        body.append(
            [
                str(layer.index),
                instruction + (" (base)" if layer.in_base else ""),
                format_bytes(layer.size_bytes),
                "not measured"
                if layer.compressed_bytes is None
                else format_bytes(layer.compressed_bytes),
                f"{layer.files_added:,}",
                f"{layer.files_changed:,}",
                f"{layer.files_removed:,}",
            ]
        )
    return markup.pipe_table(
        ["#", "instruction", "size", "compressed", "added", "changed", "removed"], body
    )


def _group_table(groups: Sequence[SizeGroup], total_bytes: int) -> str:
    body = [
        [name, format_bytes(size), _share(size, total_bytes), f"{files:,}"]
        for name, size, files in shown_groups(groups, _TOP_PACKAGES_SHOWN)
    ]
    return markup.pipe_table(["group", "size", "share", "files"], body)


def _share(size: int, total: int) -> str:
    return format_percent(size / total) if total else "n/a (empty image)"


def _not_analysed(variant: VariantResult) -> str:
    if variant.image is not None and variant.image.analysis is None:
        return "not analysed"
    return markup.absent(variant)
