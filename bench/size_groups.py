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

from bench.models import GROUP_KINDS, SizeGroup
from bench.overlay import WHITEOUT
from bench.savestream import SavedLayer

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
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                # Scripts are recorded relative to site-packages: ../../../bin/uvicorn.
                owners[posixpath.normpath(posixpath.join(site, row[0])).lstrip("/")] = name
    return owners


def _top_level_name(first: str) -> str:
    """The distribution a top-level site-packages name most likely belongs to."""
    for suffix in (".dist-info", ".egg-info", ".libs", ".data"):
        if first.endswith(suffix):
            return canonical_name(first[: -len(suffix)].split("-", 1)[0])
    return canonical_name(first.split(".", 1)[0])


def classify(path: str, owners: Mapping[str, str], app_dir: str) -> tuple[str, str, str]:
    """(group kind, group name, finer tag for findings) of a file outside the base layers."""
    pip_cache = _PIP_CACHE.match(path)
    if pip_cache:
        return "pip-cache", GROUP_NAMES["pip-cache"], "pip-cache"
    if _APT_LISTS.match(path):
        return "apt", GROUP_NAMES["apt"], "apt-lists"
    if _APT_CACHE.match(path):
        return "apt", GROUP_NAMES["apt"], "apt-cache"
    if path.endswith(".pyc") or "__pycache__" in path.split("/"):
        return "bytecode", GROUP_NAMES["bytecode"], ""
    site = _SITE.match(path)
    if site:
        parts = site["rest"].split("/")
        if _TEST_DOC_DIRS.intersection(parts[:-1]):
            return "tests-docs", GROUP_NAMES["tests-docs"], ""
        return "package", owners.get(path) or _top_level_name(parts[0]), ""
    owner = owners.get(path)
    if owner:
        return "package", owner, ""  # a script or data file a distribution installed
    if _RUNTIME.match(path):
        return "runtime", GROUP_NAMES["runtime"], ""
    if app_dir and (path == app_dir or path.startswith(app_dir + "/")):
        return "app", GROUP_NAMES["app"], ""
    return "other", GROUP_NAMES["other"], ""


@dataclass
class CacheTally:
    """Bytes of one cache kind in one layer, and the directory they are in."""

    size_bytes: int = 0
    files: int = 0
    directories: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Grouping:
    groups: tuple[SizeGroup, ...]
    # (layer index, cache tag) -> what that layer holds of that cache
    caches: dict[tuple[int, str], CacheTally]


def group_sizes(layers: Sequence[SavedLayer], base_layer_count: int, app_dir: str) -> Grouping:
    """Size groups over all layers; the base image's layers form one group."""
    owners: dict[str, str] = {}
    for layer in layers:
        owners.update(distribution_owners(layer.records))
    totals: dict[tuple[str, str], list[int]] = {}
    caches: dict[tuple[int, str], CacheTally] = {}
    for index, layer in enumerate(layers):
        if index < base_layer_count:
            files = sum(1 for entry in layer.entries if _is_file(entry.path, entry.is_dir))
            total = totals.setdefault(("base", BASE_NAME), [0, 0])
            total[0] += layer.size_bytes
            total[1] += files
            continue
        for entry in layer.entries:
            if not _is_file(entry.path, entry.is_dir):
                if entry.size:  # directories and whiteouts have none in a docker layer
                    totals.setdefault(("other", GROUP_NAMES["other"]), [0, 0])[0] += entry.size
                continue
            kind, name, tag = classify(entry.path, owners, app_dir)
            total = totals.setdefault((kind, name), [0, 0])
            total[0] += entry.size
            total[1] += 1
            if tag:
                cache = caches.setdefault((index, tag), CacheTally())
                cache.size_bytes += entry.size
                cache.files += 1
                cache.directories.add(_cache_dir(entry.path, tag))
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
