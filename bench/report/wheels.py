"""The wheel check in the views: which requirements have no wheel for a variant's real
platform (and so compile from source), and when a row built on a stand-in base does not
represent that platform. latest.md's section is here; the notes word it per language."""

from __future__ import annotations

from collections.abc import Sequence

from bench.lab.paths import PYPI_PROXY_URL
from bench.models import PackageWheel, RunResult, VariantResult, WheelCheck, WheelPlatform
from bench.report import markup
from bench.report.markup import Row

LIBC: dict[WheelPlatform, str] = {"manylinux": "glibc", "musllinux": "musl"}
_NOT_CHECKED = "not checked"


def done_check(variant: VariantResult) -> WheelCheck | None:
    """The variant's wheel check when it was made (not off, not skipped)."""
    check = variant.wheel_check
    return check if check is not None and check.done else None


def from_source(check: WheelCheck) -> tuple[PackageWheel, ...]:
    """The packages pip would compile from their sdist."""
    return tuple(p for p in check.packages if p.verdict == "sdist")


def not_installable(check: WheelCheck) -> tuple[PackageWheel, ...]:
    """The packages the index offers nothing installable for (no wheel, no sdist, or no
    such version): the build fails there."""
    return tuple(p for p in check.packages if p.verdict in ("incompatible", "absent"))


def not_representative(run: RunResult, variant: VariantResult) -> bool:
    """True when the variant's image was built on a stand-in base (glibc, whatever its name)
    while its real base is musl and some requirement has no musllinux wheel: on the real
    base pip would compile it, so the measured size and build time are not the real ones."""
    check = done_check(variant)
    if check is None or check.platform != "musllinux" or not check.without_wheel:
        return False
    image = variant.image
    return image.base_is_standin if image is not None else run.provenance.bases_are_standins


def index_note(index_url: str) -> str:
    """What the answers are worth: the lab's proxy is only as complete as its upstream."""
    if index_url == PYPI_PROXY_URL:
        return (
            f"`{index_url}` (the lab's PyPI proxy: it answers from the index the host's pip "
            "uses; a partial mirror there, holding only the host's own wheels, has no "
            "musllinux wheels or sdists to offer, so check against a complete index with "
            "`--wheel-index` where one is reachable)"
        )
    return f"`{markup.recorded(index_url)}`"


def _named(packages: Sequence[PackageWheel]) -> str:
    return ", ".join(p.name for p in packages)


def summary(run: RunResult, variant: VariantResult) -> str | None:
    """One sentence on the variant's wheels, like "wheels: 19 of 19 (manylinux)"; None
    without a check."""
    check = variant.wheel_check
    if check is None:
        return None
    if not check.done or check.platform is None:
        return f"wheels not checked: {markup.recorded(check.skipped_reason)}"
    total = len(check.packages)
    missing = check.without_wheel
    if not missing:
        have = "package has" if total == 1 else "packages have"
        return f"{total} of {total} {have} a wheel ({check.platform})"
    verb = "has" if len(missing) == 1 else "have"
    noun = "package" if total == 1 else "packages"
    parts = [f"on {LIBC[check.platform]}, {len(missing)} of {total} {noun} {verb} no wheel"]
    built = from_source(check)
    if built:
        parts.append(f"{_named(built)} will be compiled from source")
    stuck = not_installable(check)
    if stuck:
        parts.append(f"{_named(stuck)} cannot be installed from this index (no wheel, no sdist)")
    sentence = ": ".join(parts[:2]) + "".join(f"; {part}" for part in parts[2:])
    if not_representative(run, variant):
        sentence += (
            "; this run built it on the lab's stand-in base (glibc, manylinux wheels), so its "
            "size and build time are **not representative** of real Alpine"
        )
    return sentence


def _cells(_run: RunResult, variant: VariantResult) -> list[str]:
    check = variant.wheel_check
    if check is None:
        return [_NOT_CHECKED] * 3
    if not check.done or check.platform is None or check.python_version is None:
        reason = markup.short(check.skipped_reason, markup.SHORT_FAILURE_CHARS)
        return [_NOT_CHECKED, f"not checked: {reason}", _NOT_CHECKED]
    target = f"CPython {check.python_version} on {LIBC[check.platform]} (`{check.platform_tag}`)"
    total = len(check.packages)
    wheels = f"{total - len(check.without_wheel)} of {total}"
    verdicts = {
        "sdist": "compiled from source",
        "incompatible": "no wheel, no sdist: cannot install",
        "absent": "not on the index",
    }
    listed = "<br>".join(
        f"{p.name} {p.version or '(no version)'}: {verdicts[p.verdict]}"
        for p in check.without_wheel
    )
    return [target, wheels, listed or "none"]


def wheels_section(rows: list[Row], with_run: bool) -> str:
    """latest.md's wheel section; empty when no run checked (older results, or checks off)."""
    if not any(variant.wheel_check is not None for _, variant in rows):
        return ""
    table = markup.variant_table(
        rows, with_run, ["real base's platform", "wheels", "without a wheel"], _cells
    )
    sentences = [
        f"- **{markup.where(run, variant, with_run)}**: {text}."
        for run, variant in rows
        if (text := summary(run, variant)) is not None
    ]
    unchecked = [
        f"- **{markup.where(run, variant, with_run)}**: "
        + ", ".join(f"`{markup.short(line, 40)}` ({why})" for line, why in check.unchecked)
        for run, variant in rows
        if (check := variant.wheel_check) is not None and check.unchecked
    ]
    indexes = dict.fromkeys(
        check.index_url for _, variant in rows if (check := variant.wheel_check) is not None
    )
    return markup.section(
        "Wheels for each base's platform",
        "Whether each requirement has a wheel for the Python version and C library of the "
        "variant's base as its Dockerfile names it (`python:3.11-alpine`: CPython 3.11 on "
        "musl, which takes musllinux wheels), not of the image a lab run built it on. A "
        "package without one is compiled from its sdist while the image builds: a compiler "
        "in the image, and minutes instead of seconds.",
        table,
        "\n".join(sentences),
        "\n".join(["Requirements the check could not ask the index about:", "", *unchecked])
        if unchecked
        else "",
        "Index asked: " + "; ".join(index_note(url) for url in indexes) + ".",
        markup.definitions(
            (
                "real base's platform",
                "the final stage's `FROM` as written (build arguments applied): its Python "
                "version from the tag, glibc (manylinux wheels; 2.36, bookworm's, unless the "
                "tag names another Debian release) or musl 1.2 for `-alpine` (musllinux "
                "wheels); x86_64",
            ),
            (
                "wheels",
                "requirements (of the variant's requirements file and the files it includes, "
                "environment markers applied) with a wheel for that platform, of all; a pinned "
                "version as pinned, any other the newest the index has that satisfies it, as "
                "pip picks; what they depend on in turn is not checked",
            ),
            (
                "without a wheel",
                "`compiled from source`: only an sdist fits; `cannot install`: the version has "
                "files, none for this platform; `not on the index`: no such version or project",
            ),
        ),
    )
