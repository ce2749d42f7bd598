"""Every byte of an image grouped by what people recognise: the base image, the Python
runtime, each installed distribution, pip and apt caches, bytecode, tests and docs inside
packages, the app, and the rest.

Each file of each layer goes to exactly one group (the first rule that matches, in the
order of `classify`), so the groups add up to the image's size. A file that a later layer
deletes still counts, in the layer that added it: that is where its bytes are.
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.layers.entries import SavedLayer
from bench.layers.overlay import WHITEOUT
from bench.models import GROUP_KINDS, SizeGroup

BASE_NAME = "base image"
_SITE = re.compile(r"^(?:.*/)?(?:site|dist)-packages/(?P<rest>.+)$")
_RUNTIME = re.compile(
    r"^usr/(?:local/)?(?:lib/python3(?:\.\d+)?/|bin/python3|lib/(?:[^/]+/)?libpython3)"
)
_PIP_CACHE = re.compile(r"^(?P<dir>(?:.*/)?\.cache/pip)(?:/|$)")
_APT_LISTS = re.compile(r"^var/lib/apt/lists(?:/|$)")
_APT_CACHE = re.compile(r"^var/cache/apt(?:/|$)")
_TEST_DOC_DIRS = frozenset({"tests", "test", "doc", "docs"})
# Names of the groups that are not one distribution each.
GROUP_NAMES = {
    "runtime": "Python runtime",
    "pip-cache": "pip cache",
    "apt": "apt cache and lists",
    "bytecode": "bytecode (.pyc)",
    "tests-docs": "tests and docs in packages",
    "app": "the app",
    "other": "other files",
}
# Finer tags that findings need (which apt directory), per layer.
CACHE_TAGS = ("pip-cache", "apt-lists", "apt-cache")


def canonical_name(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): `Scikit_Learn` -> `scikit-learn`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_owners(records: Mapping[str, str]) -> dict[str, str]:
    """Installed path (as in a layer, no leading slash) -> distribution, from RECORD files."""
    owners: dict[str, str] = {}
    for record_path, text in records.items():
        dist_info = posixpath.dirname(record_path)
        site = posixpath.dirname(dist_info)
        name = canonical_name(posixpath.basename(dist_info).split("-", 1)[0])
        for line in text.splitlines():
            # Most rows are `path,sha256=...,size`: split by hand (csv.reader only for a
            # quoted path), normalised only when the path climbs or has dots.
            first = next(csv.reader((line,)), [""])[0] if '"' in line else line.split(",", 1)[0]
            if not first:
                continue
            if first.startswith(("/", ".")) or "/." in first or "//" in first or first[-1] == "/":
                # Scripts are recorded relative to site-packages: ../../../bin/uvicorn.
                first = posixpath.normpath(posixpath.join(site, first)).lstrip("/")
            elif site:
                first = f"{site}/{first}"
            owners[first] = name
    return owners


def _top_level_name(first: str) -> str:
    """The distribution a top-level site-packages name most likely belongs to."""
    for suffix in (".dist-info", ".egg-info", ".libs", ".data"):
        if first.endswith(suffix):
            return canonical_name(first[: -len(suffix)].split("-", 1)[0])
    return canonical_name(first.split(".", 1)[0])


# What a path alone tells (`by_path`): a group for sure, or what is left to look up.
_SITE_FILE = "site"  # in site-packages: its distribution, by RECORD or by its top-level name
_LOOSE_FILE = "loose"  # elsewhere: a distribution's script or data, the runtime, the app, other


def by_path(path: str) -> tuple[str, str, str]:
    """What a file's path alone tells: (group kind, group name, finer tag) when that settles
    it; ("site", guessed distribution, "") or ("loose", "runtime" or "", "") when which
    distribution owns the file (and, for a loose one, where the app is) still decides."""
    # Each regular expression behind a plain substring test: most paths fail the test,
    # which costs a tenth of a failed match.
    if ".cache/pip" in path and _PIP_CACHE.match(path):
        return "pip-cache", GROUP_NAMES["pip-cache"], "pip-cache"
    if path.startswith("var/"):
        if _APT_LISTS.match(path):
            return "apt", GROUP_NAMES["apt"], "apt-lists"
        if _APT_CACHE.match(path):
            return "apt", GROUP_NAMES["apt"], "apt-cache"
    if path.endswith(".pyc") or ("__pycache__" in path and "__pycache__" in path.split("/")):
        return "bytecode", GROUP_NAMES["bytecode"], ""
    site = _SITE.match(path) if "-packages/" in path else None
    if site:
        parts = site["rest"].split("/")
        if _TEST_DOC_DIRS.intersection(parts[:-1]):
            return "tests-docs", GROUP_NAMES["tests-docs"], ""
        return _SITE_FILE, _top_level_name(parts[0]), ""
    if path.startswith("usr/") and _RUNTIME.match(path):
        return _LOOSE_FILE, "runtime", ""
    return _LOOSE_FILE, "", ""


def _settled(
    path: str, kind: str, name: str, owners: Mapping[str, str], app_dir: str
) -> tuple[str, str]:
    """(group kind, group name) of a file `by_path` left open."""
    owner = owners.get(path)
    if owner:
        return "package", owner  # a distribution's file, or a script or data it installed
    if kind == _SITE_FILE:
        return "package", name
    if name:
        return "runtime", GROUP_NAMES["runtime"]
    if app_dir and (path == app_dir or path.startswith(app_dir + "/")):
        return "app", GROUP_NAMES["app"]
    return "other", GROUP_NAMES["other"]


def classify(path: str, owners: Mapping[str, str], app_dir: str) -> tuple[str, str, str]:
    """(group kind, group name, finer tag for findings) of a file outside the base layers."""
    kind, name, tag = by_path(path)
    if kind in (_SITE_FILE, _LOOSE_FILE):
        return (*_settled(path, kind, name, owners, app_dir), "")
    return kind, name, tag


@dataclass
class CacheTally:
    """Bytes of one cache kind in one layer, and the directory they are in."""

    size_bytes: int = 0
    files: int = 0
    directories: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class LayerFiles:
    """One layer's files, sorted by what their paths alone tell: order-free, so it is
    worked out for each layer while the image streams (the regular expressions are most
    of the grouping's time); `group_sizes` then settles the rest with all layers known."""

    file_count: int
    owners: dict[str, str]  # from this layer's RECORD files
    settled: dict[tuple[str, str], list[int]]  # (kind, name) -> [bytes, files]
    caches: dict[str, CacheTally]  # finer tag -> what this layer holds of that cache
    open_files: list[tuple[str, int, str, str]]  # (path, bytes, "site" or "loose", name)


def layer_files(layer: SavedLayer) -> LayerFiles:
    settled: dict[tuple[str, str], list[int]] = {}
    caches: dict[str, CacheTally] = {}
    open_files: list[tuple[str, int, str, str]] = []
    count = 0
    for path, size, is_dir in layer.entries:
        if not _is_file(path, is_dir):
            if size:  # directories and whiteouts have none in a docker layer
                settled.setdefault(("other", GROUP_NAMES["other"]), [0, 0])[0] += size
            continue
        count += 1
        kind, name, tag = by_path(path)
        if kind in (_SITE_FILE, _LOOSE_FILE):
            open_files.append((path, size, kind, name))
            continue
        total = settled.setdefault((kind, name), [0, 0])
        total[0] += size
        total[1] += 1
        if tag:
            cache = caches.setdefault(tag, CacheTally())
            cache.size_bytes += size
            cache.files += 1
            cache.directories.add(_cache_dir(path, tag))
    return LayerFiles(count, distribution_owners(layer.records), settled, caches, open_files)


@dataclass(frozen=True)
class Grouping:
    groups: tuple[SizeGroup, ...]
    # (layer index, cache tag) -> what that layer holds of that cache
    caches: dict[tuple[int, str], CacheTally]


def group_sizes(
    layers: Sequence[SavedLayer],
    base_layer_count: int,
    app_dir: str,
    files: Sequence[LayerFiles | None] = (),
) -> Grouping:
    """Size groups over all layers; the base image's layers form one group. `files` may
    hold each layer's `layer_files`, worked out while the image streamed."""
    # Sorted here what was not sorted while streaming; a base layer only needs its count.
    known = [
        (files[index] if index < len(files) else None)
        or (None if index < base_layer_count else layer_files(layer))
        for index, layer in enumerate(layers)
    ]
    owners: dict[str, str] = {}
    for layer, facts in zip(layers, known, strict=True):
        owners.update(facts.owners if facts is not None else distribution_owners(layer.records))
    totals: dict[tuple[str, str], list[int]] = {}
    caches: dict[tuple[int, str], CacheTally] = {}
    for index, (layer, facts) in enumerate(zip(layers, known, strict=True)):
        if index < base_layer_count:
            total = totals.setdefault(("base", BASE_NAME), [0, 0])
            total[0] += layer.size_bytes
            total[1] += (
                facts.file_count
                if facts is not None
                else sum(1 for entry in layer.entries if _is_file(entry.path, entry.is_dir))
            )
            continue
        assert facts is not None  # sorted above
        for key, (size, count) in facts.settled.items():
            total = totals.setdefault(key, [0, 0])
            total[0] += size
            total[1] += count
        for tag, tally in facts.caches.items():
            caches[(index, tag)] = tally
        for path, size, kind, name in facts.open_files:
            total = totals.setdefault(_settled(path, kind, name, owners, app_dir), [0, 0])
            total[0] += size
            total[1] += 1
    groups = sorted(
        (SizeGroup(kind, name, size, files) for (kind, name), (size, files) in totals.items()),
        key=lambda group: (GROUP_KINDS.index(group.kind), -group.size_bytes, group.name),
    )
    return Grouping(tuple(groups), caches)


def _is_file(path: str, is_dir: bool) -> bool:
    return not is_dir and not path.rsplit("/", 1)[-1].startswith(WHITEOUT)


def _cache_dir(path: str, tag: str) -> str:
    if tag == "pip-cache":
        match = _PIP_CACHE.match(path)
        return "/" + (match["dir"] if match else path)
    return "/var/lib/apt/lists" if tag == "apt-lists" else "/var/cache/apt"


def shown_groups(groups: Sequence[SizeGroup], packages: int) -> list[tuple[str, int, int]]:
    """(label, bytes, files) rows for a table: every group but the packages beyond the
    `packages` largest, which become one `N more packages` row where they were."""
    rows: list[tuple[str, int, int]] = []
    kept = [group for group in groups if group.kind == "package"][:packages]
    rest = [group for group in groups if group.kind == "package" and group not in kept]
    for group in groups:
        if group.kind != "package":
            rows.append((group.name, group.size_bytes, group.files))
        elif group in kept:
            rows.append((f"{group.name} (package)", group.size_bytes, group.files))
            if group is kept[-1] and rest:
                rows.append(
                    (
                        f"{len(rest)} more packages",
                        sum(other.size_bytes for other in rest),
                        sum(other.files for other in rest),
                    )
                )
    return rows
