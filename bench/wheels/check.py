"""The wheel check of a variant: for its real base's Python and libc, does the index the
build uses have a wheel for each requirement, or would pip build it from source?

One run has one WheelChecker: one index, each project's page asked once (a few at a time)
and kept for the run, so five variants on one requirements file cost one request per
package. Failure is data: a check that cannot be made says why and the run goes on.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from bench.context.dockerfile import final_base
from bench.models import PackageWheel, VersionChoice, WheelCheck, WheelVerdict
from bench.wheels import requirements as requirements_file
from bench.wheels.index import (
    Fetch,
    IndexFile,
    IndexUnavailable,
    project_files,
    project_url,
    urllib_fetch,
)
from bench.wheels.target import DEFAULT_MACHINE, NoTarget, Target, target_of

# Project pages asked at once: enough to hide a round trip, few enough for a small proxy.
WORKERS = 8
# Archive endings of the sdists pip installs (parse_sdist_filename knows .tar.gz and .zip).
_SDIST_ENDINGS = (".tar.gz", ".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")

# What a project page gave: its files, None when the index has no such project, or why
# it could not be asked.
_Answer = tuple[IndexFile, ...] | None | IndexUnavailable


class WheelChecker:
    """Wheel checks against one index for a run; its answers are kept for the run."""

    def __init__(
        self, index_url: str, fetch: Fetch = urllib_fetch, machine: str = DEFAULT_MACHINE
    ) -> None:
        self.index_url = index_url
        self._fetch = fetch
        self._machine = machine
        self._answers: dict[str, _Answer] = {}

    def check(
        self, dockerfile: Path, requirements: Path | None, build_args: Mapping[str, str]
    ) -> WheelCheck:
        """The check of one variant; never raises (a check not done says why)."""
        try:
            return self._check(dockerfile, requirements, build_args)
        except Exception as error:
            # Around one variant's check only: a bug of ours here must not cost the variant
            # its measurement, so it is recorded as a check not done, with the error.
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            return self._skipped("", f"internal error: {last}")

    def _skipped(self, base: str, reason: str) -> WheelCheck:
        return WheelCheck(self.index_url, base, skipped_reason=reason)

    def _check(
        self, dockerfile: Path, requirements: Path | None, build_args: Mapping[str, str]
    ) -> WheelCheck:
        try:
            base = final_base(dockerfile, build_args)
        except (OSError, UnicodeDecodeError) as error:
            return self._skipped("", f"{dockerfile.name}: cannot read it ({error})")
        if base is None:
            return self._skipped("scratch", "the final stage is FROM scratch: no Python in it")
        try:
            target = target_of(base, self._machine)
        except NoTarget as error:
            return self._skipped(base, str(error))
        if requirements is None:
            return self._skipped(
                base, "no requirements file (the manifest's `requirements`, or requirements.txt)"
            )
        environment = requirements_file.marker_environment(target)
        try:
            wanted = requirements_file.read(requirements, environment)
        except requirements_file.RequirementsError as error:
            return self._skipped(base, str(error))
        answers = self._ask(canonicalize_name(r.name) for r in wanted.requirements)
        failed = next((a for a in answers.values() if isinstance(a, IndexUnavailable)), None)
        if failed is not None:
            return self._skipped(base, f"the index did not answer: {failed}")
        packages = []
        for requirement in wanted.requirements:
            answer = answers[canonicalize_name(requirement.name)]
            assert not isinstance(answer, IndexUnavailable)
            packages.append(decide(requirement, answer, target, wanted.prereleases))
        return WheelCheck(
            self.index_url,
            base,
            python_version=target.python_version,
            platform=target.platform,
            platform_tag=target.platform_tags[0],
            packages=tuple(packages),
            unchecked=wanted.unchecked,
        )

    def _ask(self, names: Iterable[str]) -> dict[str, _Answer]:
        """Each project's answer, asking the index (a few at a time) only once per run."""
        wanted = list(dict.fromkeys(names))
        missing = [name for name in wanted if name not in self._answers]
        if missing:
            # One project first: an index that does not answer then costs one timeout, not
            # one per project, and the rest of the run is told the same without asking.
            first = self._answers[missing[0]] = self._one(missing[0])
            rest = missing[1:]
            if isinstance(first, IndexUnavailable):
                self._answers.update(dict.fromkeys(rest, first))
            elif rest:
                with ThreadPoolExecutor(max_workers=min(WORKERS, len(rest))) as pool:
                    for name, answer in zip(rest, pool.map(self._one, rest), strict=True):
                        self._answers[name] = answer
        return {name: self._answers[name] for name in wanted}

    def _one(self, name: str) -> _Answer:
        url = project_url(self.index_url, name)
        try:
            page = self._fetch(url)
            return None if page is None else project_files(page, url)
        except IndexUnavailable as error:
            return error


def _version_of(filename: str, name: str) -> tuple[Version, bool] | None:
    """(version, is a wheel) of a project's file, None for any other file or project."""
    try:
        if filename.endswith(".whl"):
            project, version, _, _ = parse_wheel_filename(filename)
            return (version, True) if project == name else None
        ending = next((e for e in _SDIST_ENDINGS if filename.endswith(e)), None)
        if ending is None:
            return None  # eggs, Windows installers
        project, version = parse_sdist_filename(filename.removesuffix(ending) + ".tar.gz")
        return (version, False) if project == name else None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def _runs_on(file: IndexFile, python: Version) -> bool:
    """Whether the file's Requires-Python admits the target interpreter (pip skips it if not)."""
    if not file.requires_python:
        return True
    try:
        return SpecifierSet(file.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a Requires-Python it cannot read


def _best_wheel(files: list[IndexFile], target: Target, python: Version) -> str | None:
    """The wheel pip would prefer among these files for the target, or None."""
    ranked = []
    for file in files:
        if not file.filename.endswith(".whl") or not _runs_on(file, python):
            continue
        _, _, _, tags = parse_wheel_filename(file.filename)
        ranks = [target.tags[tag] for tag in tags if tag in target.tags]
        if ranks:
            ranked.append((min(ranks), file.filename))
    return min(ranked)[1] if ranked else None


def _verdict(
    files: list[IndexFile], target: Target, python: Version
) -> tuple[WheelVerdict, str | None]:
    if not files:
        return "absent", None
    wheel = _best_wheel(files, target, python)
    if wheel is not None:
        return "wheel", wheel
    if any(not f.filename.endswith(".whl") and _runs_on(f, python) for f in files):
        return "sdist", None
    return "incompatible", None


def _pinned(requirement: Requirement) -> str | None:
    """The version of a `==X` (or `===X`) requirement; None when it is unpinned or ranged."""
    specifiers = list(requirement.specifier)
    if (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and "*" not in (specifiers[0].version)
    ):
        return specifiers[0].version
    return None


def decide(
    requirement: Requirement,
    files: tuple[IndexFile, ...] | None,
    target: Target,
    prereleases: bool = False,
) -> PackageWheel:
    """What pip would take for the requirement from these index files, on the target."""
    name = canonicalize_name(requirement.name)
    pinned = _pinned(requirement)
    chosen: VersionChoice = "pinned" if pinned is not None else "newest"
    python = Version(target.full_version)
    by_version: dict[Version, list[IndexFile]] = {}
    for file in files or ():
        parsed = _version_of(file.filename, name)
        # pip passes over yanked files, unless the requirement pins their version exactly.
        if parsed is not None and (pinned is not None or not file.yanked):
            by_version.setdefault(parsed[0], []).append(file)
    if pinned is not None:
        matching = [
            files_of
            for version, files_of in by_version.items()
            if requirement.specifier.contains(version, prereleases=True)
        ]
        verdict, wheel = _verdict([f for group in matching for f in group], target, python)
        return PackageWheel(name, pinned, chosen, verdict, wheel)
    allowed = sorted(
        requirement.specifier.filter(by_version, prereleases=True if prereleases else None),
        reverse=True,
    )
    if not allowed:
        return PackageWheel(name, None, chosen, "absent")
    # pip takes the newest version it can install, wheel or sdist; failing all, the newest.
    for version in allowed:
        verdict, wheel = _verdict(by_version[version], target, python)
        if verdict in ("wheel", "sdist"):
            return PackageWheel(name, str(version), chosen, verdict, wheel)
    return PackageWheel(name, str(allowed[0]), chosen, "incompatible")
