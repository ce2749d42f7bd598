"""`--lab-base NAME=STAND-IN`: a base the lab lacks, built from one of its stand-ins instead.

The lab has no Docker Hub, only the stand-ins it built. A Dockerfile whose base it lacks
(python:3.12-slim, a digest-pinned base) is built from a rewritten copy of the Dockerfile in
the run's scratch copy, its FROM naming the stand-in; the user's file is never changed and
no tag is added to the engine, which other runs share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bench.context.dockerfile import normalise_reference, rewrite_bases
from bench.errors import BenchError

LabBases = tuple[tuple[str, str], ...]  # (the Dockerfile's base, the stand-in built from)

# The option's name in the results' provenance options, as "NAME=STAND-IN,...".
OPTION = "lab_bases"


def parse(values: Iterable[str], standins: Sequence[str]) -> LabBases:
    """`NAME=STAND-IN` values as pairs; a one-line BenchError on a malformed one or an
    unknown stand-in."""
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, target = (part.strip() for part in value.partition("="))
        if not sep or not name or not target:
            raise BenchError(
                f"--lab-base {value!r}: expected NAME=STAND-IN, "
                "e.g. python:3.12-slim=python:3.11-slim"
            )
        if normalise_reference(target) not in standins:
            raise BenchError(
                f"--lab-base {value}: {target} is not one of the lab's stand-ins "
                f"({', '.join(standins)})"
            )
        pairs[normalise_reference(name)] = normalise_reference(target)
    return tuple(sorted(pairs.items()))


def resolve(bases: Iterable[str], lab_bases: LabBases) -> list[str]:
    """The images the builds use: each base, or the stand-in it is mapped to."""
    mapping = dict(lab_bases)
    return [mapping.get(base, base) for base in bases]


def recorded(lab_bases: LabBases) -> str:
    """The mapping as one provenance option value."""
    return ",".join(f"{name}={target}" for name, target in lab_bases)


def from_recorded(value: str) -> dict[str, str]:
    """A recorded mapping back as NAME -> STAND-IN."""
    return dict(pair.split("=", 1) for pair in value.split(",") if "=" in pair)


def stand_in_for(base: str, options: Mapping[str, str]) -> str | None:
    """The stand-in a run built `base` from (its recorded options say), None if none."""
    return from_recorded(options.get(OPTION, "")).get(base)


def _flavour(tag: str) -> str:
    """A tag's kind without versions: 3.12-slim-bookworm -> slim, 3.12-alpine3.20 -> alpine."""
    match = re.match(r"[0-9.]*-?([a-z]*)", tag)
    return match.group(1) if match else ""


def suggestion(reference: str, standins: Sequence[str]) -> str:
    """The stand-in most like `reference`: same repository, same flavour (slim, alpine), else
    the same repository, else the first."""
    repository, _, tag = normalise_reference(reference).split("@", 1)[0].partition(":")
    same = [s for s in standins if s.partition(":")[0] == repository]
    alike = [s for s in same if _flavour(s.partition(":")[2]) == _flavour(tag)]
    return (alike or same or list(standins))[0]


def missing_base_message(reference: str, standins: Sequence[str]) -> str:
    """One line: the lab lacks this base, which stand-ins it has, and how to map it."""
    return (
        f"not in the lab (no Docker Hub); its stand-ins are {', '.join(standins)}; "
        f"build from one with --lab-base {reference}={suggestion(reference, standins)}"
    )


def rewrite_in_scratch(
    dockerfile: Path, scratch: Path, build_args: Mapping[str, str], lab_bases: LabBases
) -> Path:
    """The Dockerfile to build with, its FROM lines naming the stand-ins: the scratch copy's,
    rewritten, or, for one outside the context (never copied, never changed), a rewritten copy
    beside the scratch context, in the run's private directory that goes with it."""
    text = dockerfile.read_text()
    changed = rewrite_bases(text, dict(lab_bases), build_args)
    if changed == text:
        return dockerfile
    target = (
        dockerfile
        if dockerfile.is_relative_to(scratch)
        else scratch.parent / f"lab-base.{dockerfile.name}"
    )
    target.write_text(changed)
    return target
