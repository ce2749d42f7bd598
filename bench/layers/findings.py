"""Findings: what makes an image bigger than it needs to be, each with its layer and bytes.

Only the Dockerfile's own layers are judged (those above the base image): a cache in the
base is the base's business. A finding needs at least `min_bytes` of evidence; below that
it would be noise, and nothing is ever reported without bytes to show for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench.layers.overlay import Hidden
from bench.layers.size_groups import CACHE_TAGS, CacheTally
from bench.models import Finding
from bench.units import format_bytes

MIN_BYTES = 1_000_000
_EXAMPLES = 3


def find(
    caches: Mapping[tuple[int, str], CacheTally],
    hidden: Sequence[Hidden],
    base_layer_count: int,
    min_bytes: int = MIN_BYTES,
) -> tuple[Finding, ...]:
    """Caches left in a layer, and bytes a later layer deleted or replaced (largest first)."""
    found = [
        Finding(tag, index, tally.size_bytes, tally.files, tuple(sorted(tally.directories)))
        for (index, tag), tally in caches.items()
        if tag in CACHE_TAGS and index >= base_layer_count and tally.size_bytes >= min_bytes
    ]
    by_cause: dict[tuple[int, int, str], list[Hidden]] = {}
    for item in hidden:
        # Deleting or replacing a base image's file in our layer saves nothing either.
        if item.hidden_by >= base_layer_count and item.added_in != item.hidden_by:
            by_cause.setdefault((item.added_in, item.hidden_by, item.how), []).append(item)
    for (added_in, hidden_by, how), items in by_cause.items():
        size = sum(item.size_bytes for item in items)
        if size >= min_bytes:
            largest = sorted(items, key=lambda item: (-item.size_bytes, item.path))[:_EXAMPLES]
            found.append(
                Finding(
                    kind=f"{how}-later",
                    layer_index=added_in,
                    size_bytes=size,
                    files=len(items),
                    paths=tuple("/" + item.path for item in largest),
                    other_layer_index=hidden_by,
                )
            )
    found.sort(key=lambda finding: (-finding.size_bytes, finding.layer_index, finding.kind))
    return tuple(found)


def describe(finding: Finding, instructions: Sequence[str]) -> str:
    """One sentence: what, where (layer and instruction), how many bytes, what to do."""
    size = format_bytes(finding.size_bytes)
    where = _layer(finding.layer_index, instructions)
    if finding.kind == "pip-cache":
        return (
            f"pip cache left in {where}: {size} in {', '.join(finding.paths)}; "
            "use `pip install --no-cache-dir` (or a `RUN --mount=type=cache` cache)"
        )
    if finding.kind == "apt-lists":
        return (
            f"apt package lists kept in {where}: {size}; remove `/var/lib/apt/lists/*` "
            "in the same `RUN` as `apt-get update`"
        )
    if finding.kind == "apt-cache":
        return f"apt's package cache kept in {where}: {size}; `apt-get clean` in the same `RUN`"
    later = _layer(finding.other_layer_index or 0, instructions)
    verb = "deleted" if finding.kind == "deleted-later" else "replaced"
    examples = ", ".join(f"`{path}`" for path in finding.paths)
    advice = (
        "delete files in the same `RUN` that creates them, or leave them in a build stage"
        if finding.kind == "deleted-later"
        else "write each file once, in its final form"
    )
    return (
        f"{finding.files} {_files(finding.files)} added in {where} {_are(finding.files)} {verb} "
        f"in {later}, but still cost "
        f"{size}: the bytes stay in the earlier layer (largest: {examples}); {advice}"
    )


def _layer(index: int, instructions: Sequence[str]) -> str:
    instruction = instructions[index] if 0 <= index < len(instructions) else ""
    text = " ".join(instruction.split())
    if len(text) > 60:
        text = text[:59].rstrip() + "…"
    return f"layer {index} (`{text}`)" if text else f"layer {index}"


def _files(count: int) -> str:
    return "file" if count == 1 else "files"


def _are(count: int) -> str:
    return "is" if count == 1 else "are"
