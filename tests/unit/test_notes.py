"""The study notes (python -m bench notes) and the image diff (python -m bench diff).

golden/notes.md and golden/notes.ko.md are render_notes() of tests/unit/sample_results.py.
After an intended change to the notes or their wording, regenerate them and review the diff:

    UPDATE_GOLDEN=1 python3 -m pytest tests/unit -q -p no:cacheprovider
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import pytest

from bench import storage
from bench.cli import main
from bench.errors import BenchError
from bench.models import (
    GROUP_KINDS,
    ImageAnalysis,
    RunResult,
    Scenario,
    SizeGroup,
    VariantResult,
    WheelCheck,
)
from bench.report.diff import diff_analyses, diff_variants, render_diff
from bench.report.layers import kind_totals
from bench.report.notes import render_notes, timing
from bench.report.notes_text import LANGUAGES
from bench.report.notes_text.template import Language
from bench.units import format_seconds
from tests.unit.sample_results import sample_run

GOLDEN = Path(__file__).parent / "golden"
_GOLDEN_FILES: dict[Language, str] = {"en": "notes.md", "ko": "notes.ko.md"}
_SEPARATOR = re.compile(r"^:?-+:?$")
# A number with a unit, as the notes write them: 1,002.5 MB, +11.4 MB, 27.0 kB, 427 ms, 2.0%.
_NUMBER = re.compile(r"(?<![\w.])([+-]?\d[\d,]*(?:\.\d+)?) ?(GB|MB|kB|B|ms|s|%)(?![\w])")
_SCALE = {"GB": 1e9, "MB": 1e6, "kB": 1e3, "B": 1.0, "s": 1.0, "ms": 1e-3, "%": 0.01}


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every pipe table as rows of cells (header first, the alignment row dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            if not all(_SEPARATOR.match(cell) for cell in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _section(markdown: str, heading: str) -> str:
    return markdown.split(f"{heading}\n", 1)[1].split("\n### ", 1)[0]


def _numbers(text: str) -> list[tuple[float, str, int]]:
    """(value in base units, unit, decimals shown) of every number with a unit in the text."""
    found = []
    for match in _NUMBER.finditer(text):
        digits = match.group(1).replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        found.append((float(digits) * _SCALE[match.group(2)], match.group(2), decimals))
    return found


def _variant(run: RunResult, name: str) -> VariantResult:
    return next(v for v in run.variants if v.name == name)


def _with_variant(run: RunResult, name: str, **changes: Any) -> RunResult:
    variants = tuple(replace(v, **changes) if v.name == name else v for v in run.variants)
    return replace(run, variants=variants)


# Golden --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", get_args(Language))
def test_matches_golden(language: Language) -> None:
    notes = render_notes([sample_run()], language)
    golden = GOLDEN / _GOLDEN_FILES[language]
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(notes, encoding="utf-8")
    assert notes == golden.read_text(encoding="utf-8"), "set UPDATE_GOLDEN=1 to regenerate"


def test_every_language_has_the_whole_wording() -> None:
    # A NotesText cannot lack a field; what can be incomplete is the group names' dict.
    for language, text in LANGUAGES.items():
        assert set(text.group_names) == set(GROUP_KINDS), language
        assert all(
            isinstance(getattr(text, f.name), str | tuple | dict) for f in dataclasses.fields(text)
        )
    assert set(LANGUAGES) == set(get_args(Language))


def test_korean_uses_the_notes_own_terms() -> None:
    notes = render_notes([sample_run()], "ko")
    for heading in ("### 이미지 크기 비교", "### 빌드 시간 비교"):
        assert heading in notes
    size_table = _tables(_section(notes, "### 이미지 크기 비교"))[0]
    assert size_table[0][:2] == ["베이스 이미지", "크기"]
    assert [row[0] for row in size_table[1:4]] == [
        "python:3.11",
        "python:3.11-slim",
        "python:3.11-alpine",
    ]
    time_table = _tables(_section(notes, "### 빌드 시간 비교"))[0]
    assert time_table[0][0] == "상황"
    assert [row[0] for row in time_table[1:]] == ["첫 빌드", "코드 수정 후 재빌드 (캐시 활용)"]
    assert "**이미지 크기 63.5% 절감**" in notes
    for term in ("베이스 이미지", "첫 빌드", "캐시", "레이어"):
        assert term in notes


# Every number is the results' number ---------------------------------------------------------


def _candidates(run: RunResult) -> tuple[list[int], list[float], list[float]]:
    """Byte counts, durations and fractions the results hold or the notes may derive."""
    sizes: list[int] = []
    for variant in run.variants:
        image = variant.image
        if image is None:
            continue
        sizes += [image.size_bytes, image.compressed_bytes or 0]
        analysis = image.analysis
        if analysis is None:
            continue
        totals = kind_totals(analysis)
        sizes += [analysis.size_bytes, analysis.wasted_bytes, *totals.values()]
        sizes += [group.size_bytes for group in analysis.groups]
        sizes += [layer.size_bytes for layer in analysis.layers]
        sizes.append(analysis.size_bytes - totals["base"])
    # Differences between two images (the diff), and between a group in two images.
    images = [v.image.analysis for v in run.variants if v.image and v.image.analysis]
    sizes += [abs(a.size_bytes - b.size_bytes) for a in images for b in images]
    for a in images:
        for b in images:
            old = {(g.kind, g.name): g.size_bytes for g in a.groups}
            sizes += [abs(g.size_bytes - old.get((g.kind, g.name), 0)) for g in b.groups]
            sizes += [old_bytes for key, old_bytes in old.items()]
    seconds = [
        value
        for variant in run.variants
        for scenario in ("cold", "edit")
        if (summary := timing(variant, scenario)) is not None
        for value in (summary.median, summary.minimum, summary.maximum)
    ]
    whole = [v.image.size_bytes for v in run.variants if v.image]
    fractions = [abs(1 - a / b) for a in whole for b in whole]
    fractions += [
        edit.median / cold.median
        for v in run.variants
        if (edit := timing(v, "edit")) and (cold := timing(v, "cold"))
    ]
    fractions += [a.efficiency for a in images]
    fractions += [
        s.cv for v in run.variants for sc in ("cold", "edit") if (s := timing(v, sc)) and s.cv
    ]
    fractions.append(0.01)  # the threshold under which wasted bytes are "little"
    return sizes, seconds, fractions


def _shown(value: float, unit: str, decimals: int, candidates: list[float]) -> bool:
    # Equal to the shown precision: half a unit of the last digit shown.
    tolerance = 0.5 * 10**-decimals * _SCALE[unit] * 1.0001
    return any(abs(abs(value) - candidate) <= tolerance for candidate in candidates)


@pytest.mark.parametrize("language", get_args(Language))
@pytest.mark.parametrize("which", ["sample", "committed"])
def test_every_number_in_the_notes_is_in_the_results(language: Language, which: str) -> None:
    run = (
        sample_run()
        if which == "sample"
        else storage.load(storage.latest_results(Path(__file__).parents[2] / "reports/results"))
    )
    notes = render_notes([run], language)
    sizes, seconds, fractions = _candidates(run)
    # Past the generated comment (the run id), and without the unit's definition.
    numbers = _numbers(notes.split("\n", 1)[1].replace("1 MB = 1,000,000", ""))
    assert numbers
    for value, unit, decimals in numbers:
        if unit in ("GB", "MB", "kB", "B"):
            pool = [float(size) for size in sizes]
        elif unit in ("s", "ms"):
            pool = seconds
        else:
            pool = fractions
        assert _shown(value, unit, decimals, pool), (value, unit)


def test_the_size_table_is_each_variants_size() -> None:
    run = sample_run()
    notes = render_notes([run], "en")
    table = _tables(_section(notes, "### Image size by base image"))[0]
    rows = {row[0]: row for row in table[1:]}
    expected = {
        "python:3.11": "full",
        "python:3.11-slim": "slim",
        "python:3.11-alpine": "alpine",
        "multi-stage (python:3.11-slim)": "multistage",
    }
    for label, name in expected.items():
        image = _variant(run, name).image
        assert image is not None and image.compressed_bytes is not None
        ((size, _, _), *_) = _numbers(rows[label][1])
        ((compressed, _, _),) = _numbers(rows[label][2])
        assert round(size / 1e6, 1) == round(image.size_bytes / 1e6, 1)
        assert round(compressed / 1e6, 1) == round(image.compressed_bytes / 1e6, 1)
    # naive ships on slim's base: the notes compare bases, so it has no row of its own.
    assert "naive" not in rows


def test_the_time_table_is_the_medians_of_the_samples() -> None:
    run = sample_run()
    notes = render_notes([run], "en")
    table = _tables(_section(notes, "### Build time"))[0]
    assert table[0][1:] == [
        "Time: slim (good layer order)",
        "Time: naive (an edit reinstalls dependencies)",
    ]
    rows: tuple[tuple[int, Scenario], ...] = ((1, "cold"), (2, "edit"))
    for column, name in ((1, "slim"), (2, "naive")):
        for row, scenario in rows:
            summary = timing(_variant(run, name), scenario)
            assert summary is not None
            assert table[row][column] == (
                f"{format_seconds(summary.median)} (median, n={summary.count}, "
                f"{format_seconds(summary.minimum)}\N{EN DASH}{format_seconds(summary.maximum)})"
            )


def test_the_saving_is_one_minus_the_ratio() -> None:
    run = sample_run()
    notes = render_notes([run], "en")
    full, multistage = _variant(run, "full").image, _variant(run, "multistage").image
    assert full is not None and multistage is not None
    saved = 1 - multistage.size_bytes / full.size_bytes
    assert f"**Image size cut by {saved * 100:.1f}%**" in notes


# Failed variants and missing scenarios -------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "failed", "not_measured"),
    [("en", "failed: build", "not measured"), ("ko", "실패: build", "측정하지 않음")],
)
def test_a_failed_variant_shows_its_reason(
    language: Language, failed: str, not_measured: str
) -> None:
    notes = render_notes([sample_run()], language)
    for table in _tables(notes):
        broken = [row for row in table if row[0] == "broken"]
        for row in broken:
            assert all(cell == failed for cell in row[1:]), row
    # alpine built but its smoke test failed: its size says so.
    size_table = _tables(notes)[0]
    alpine = next(row for row in size_table if row[0] == "python:3.11-alpine")
    assert f"({failed.split(':')[0]}: smoke test)" in alpine[1]
    assert not_measured not in notes


def _no_empty_cells(markdown: str) -> None:
    for table in _tables(markdown):
        for row in table:
            assert len(row) == len(table[0]), row
            assert all(cell for cell in row), row


def _without_scenario(run: RunResult, scenario: str) -> RunResult:
    return replace(
        run,
        variants=tuple(
            replace(v, samples=tuple(s for s in v.samples if s.scenario != scenario))
            for v in run.variants
        ),
    )


@pytest.mark.parametrize("language", get_args(Language))
def test_a_missing_scenario_says_not_measured(language: Language) -> None:
    notes = render_notes([_without_scenario(sample_run(), "edit")], language)
    text = LANGUAGES[language]
    (table,) = _tables(_section(notes, text.time_heading))
    # No edit measured: no naive to find, one column, and its edit cell says so.
    assert len(table[0]) == 2
    assert table[2][1] == text.not_measured
    assert text.time_no_naive in notes
    _no_empty_cells(notes)


def test_a_failed_scenario_shows_its_error() -> None:
    run = sample_run()
    slim = _variant(run, "slim")
    samples = tuple(
        replace(s, ok=False, duration_seconds=None, error="no space left on device")
        if s.scenario == "cold"
        else s
        for s in slim.samples
    )
    notes = render_notes([_with_variant(run, "slim", samples=samples)], "en")
    (table,) = _tables(_section(notes, "### Build time"))
    assert table[1][1] == "failed: no space left on device"
    assert "slim: the first build or the rebuild was not measured" in notes


def _awkward_runs() -> list[RunResult]:
    run = sample_run()
    no_analysis = replace(
        run,
        variants=tuple(
            replace(v, image=replace(v.image, analysis=None)) if v.image else v
            for v in run.variants
        ),
    )
    only_broken = replace(run, variants=(_variant(run, "broken"),))
    no_multistage = replace(run, variants=tuple(v for v in run.variants if v.name != "multistage"))
    no_naive = replace(run, variants=tuple(v for v in run.variants if v.name != "naive"))
    only_naive = replace(run, variants=(_variant(run, "naive"),))
    return [
        no_analysis,
        only_broken,
        no_multistage,
        no_naive,
        only_naive,
        replace(run, variants=()),
    ]


@pytest.mark.parametrize("language", get_args(Language))
@pytest.mark.parametrize("index", range(6))
def test_no_empty_cell_whatever_is_missing(language: Language, index: int) -> None:
    notes = render_notes([_awkward_runs()[index]], language)
    _no_empty_cells(notes)
    assert "{" not in notes.replace("${", "")  # every template field was filled


# The diff's arithmetic -----------------------------------------------------------------------


def _analysis(*groups: tuple[str, str, int]) -> ImageAnalysis:
    made = tuple(SizeGroup(kind, name, size, 1) for kind, name, size in groups)
    return ImageAnalysis(
        size_bytes=sum(group.size_bytes for group in made),
        symlink_bytes=0,
        compressed_bytes=None,
        efficiency=1.0,
        wasted_bytes=0,
        base_layer_count=1,
        app_dir="/app",
        layers=(),
        top_wasted=(),
        groups=made,
        findings=(),
    )


def test_diff_arithmetic() -> None:
    before = _analysis(
        ("base", "base image", 1000),
        ("package", "numpy", 500),
        ("package", "anyio", 40),
        ("bytecode", "bytecode (.pyc)", 100),
    )
    after = _analysis(
        ("base", "base image", 1000),
        ("package", "numpy", 520),
        ("package", "pip", 60),
        ("bytecode", "bytecode (.pyc)", 130),
        ("other", "other files", 5),
    )
    diff = diff_analyses("a", before, "b", after)
    assert diff.delta_bytes == 1715 - 1640
    assert sum(kind.delta_bytes for kind in diff.kinds) == diff.delta_bytes
    kinds = {kind.kind: kind for kind in diff.kinds}
    # Packages: numpy +20 and pip +60 added, anyio 40 removed: net +40.
    assert (kinds["package"].added_bytes, kinds["package"].removed_bytes) == (80, 40)
    assert kinds["package"].delta_bytes == 40
    assert kinds["base"].delta_bytes == 0
    assert kinds["other"].before_bytes == 0 and kinds["other"].after_bytes == 5
    assert [(c.name, c.delta_bytes) for c in diff.packages] == [
        ("pip", 60),
        ("anyio", -40),
        ("numpy", 20),
    ]
    # Largest changes leave out rounding noise (under 1 kB); none here is that big.
    assert diff.largest == ()


def test_diff_of_the_sample_run_adds_up() -> None:
    run = sample_run()
    diff = diff_variants(run, "slim", "multistage")
    slim, multistage = _variant(run, "slim").image, _variant(run, "multistage").image
    assert slim is not None and slim.analysis is not None
    assert multistage is not None and multistage.analysis is not None
    assert diff.delta_bytes == multistage.analysis.size_bytes - slim.analysis.size_bytes
    assert sum(k.delta_bytes for k in diff.kinds) == diff.delta_bytes
    assert all(k.added_bytes - k.removed_bytes == k.delta_bytes for k in diff.kinds)
    assert diff.largest[0].name == "pip" and diff.largest[0].before_bytes == 0
    text = render_diff(diff)
    assert text.startswith("slim -> multistage: 486 MB -> 492 MB (+5.45 MB; +5,446,994 bytes)")


def test_diff_names_what_is_missing() -> None:
    run = sample_run()
    with pytest.raises(BenchError, match=r"no variant 'nope' in run .*variants: full, slim"):
        diff_variants(run, "slim", "nope")
    with pytest.raises(BenchError, match="variant 'broken' has no image: failed: build"):
        diff_variants(run, "broken", "slim")
    slim_image = _variant(run, "slim").image
    assert slim_image is not None
    unanalysed = _with_variant(run, "slim", image=replace(slim_image, analysis=None))
    with pytest.raises(BenchError, match="variant 'slim' has no layer analysis"):
        diff_variants(unanalysed, "slim", "full")


# Command line --------------------------------------------------------------------------------


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "run.json"
    storage.save(sample_run(), path)
    return path


def test_notes_command_writes_the_file(results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes.ko.md"
    assert main(["notes", str(results_file), "--lang", "ko", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_notes([sample_run()], "ko")


def test_notes_command_prints_english_by_default(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notes", str(results_file)]) == 0
    assert capsys.readouterr().out == render_notes([sample_run()], "en")


def test_notes_command_without_results_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notes", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {tmp_path / 'missing.json'}: no such results file\n"


def test_notes_command_rejects_an_unknown_language(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["notes", "--lang", "fr"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_diff_command(results_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "slim", "multistage", "--results", str(results_file)]) == 0
    out = capsys.readouterr().out
    assert out == render_diff(diff_variants(sample_run(), "slim", "multistage"))
    assert "pip (package)" in out


def test_diff_command_with_an_unknown_variant(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "slim", "nope", "--results", str(results_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no variant 'nope' in run ")
    assert err.count("\n") == 1


def test_diff_command_without_results_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["diff", "slim", "full", "--results", str(missing)]) == 2
    assert capsys.readouterr().err == f"error: {missing}: no such results file\n"


# The wheel check -------------------------------------------------------------------------------


def _alpine_check(run: RunResult) -> WheelCheck:
    check = _variant(run, "alpine").wheel_check
    assert check is not None
    return check


def _size_text(notes: str, heading: str) -> str:
    return _section(notes, heading).split("\n\n")[1]


@pytest.mark.parametrize(
    ("language", "heading", "sentence", "mark"),
    [
        (
            "en",
            "### Image size by base image",
            "On python:3.11-alpine (musl), 1 of 19 packages has no wheel: scikit-learn will be "
            "compiled from source.",
            "(not representative of real Alpine)",
        ),
        (
            "ko",
            "### 이미지 크기 비교",
            "python:3.11-alpine(musl)에서는 패키지 19개 중 1개에 휠이 없어, scikit-learn "
            "패키지는 소스에서 컴파일됩니다.",
            "(실제 Alpine을 대표하지 않음)",
        ),
    ],
)
def test_the_alpine_row_names_what_compiles_from_source(
    language: Language, heading: str, sentence: str, mark: str
) -> None:
    notes = render_notes([sample_run()], language)
    assert sentence in _size_text(notes, heading)
    alpine = next(row for row in _tables(notes)[0] if row[0] == "python:3.11-alpine")
    assert alpine[1].endswith(mark)
    # No other row is marked: slim's and full's checks found a wheel for everything.
    assert sum(mark in cell for table in _tables(notes) for row in table for cell in row) == 1


def test_the_wheel_sentence_is_made_from_the_results() -> None:
    run = sample_run()
    check = _alpine_check(run)
    two = tuple(
        replace(p, verdict="sdist", wheel_file=None) if p.name in ("numpy", "scikit-learn") else p
        for p in check.packages[1:]
    )
    changed = _with_variant(run, "alpine", wheel_check=replace(check, packages=two))
    notes = render_notes([changed], "en")
    assert (
        "On python:3.11-alpine (musl), 2 of 18 packages have no wheel: numpy, scikit-learn "
        "will be compiled from source." in notes
    )


def test_without_a_check_the_alpine_row_names_no_package() -> None:
    run = _with_variant(sample_run(), "alpine", wheel_check=None)
    headings: dict[Language, str] = {
        "en": "### Image size by base image",
        "ko": "### 이미지 크기 비교",
    }
    for language, heading in headings.items():
        assert "scikit-learn" not in _size_text(render_notes([run], language), heading)
    english = render_notes([run], "en")
    assert "this run did not check which" in english
    assert "(not representative of real Alpine)" not in english


def test_every_musllinux_wheel_there_or_a_real_base_is_not_flagged() -> None:
    run = sample_run()
    check = _alpine_check(run)
    wheels = tuple(
        replace(p, verdict="wheel", wheel_file=p.wheel_file or "x.whl") for p in (check.packages)
    )
    all_there = render_notes(
        [_with_variant(run, "alpine", wheel_check=replace(check, packages=wheels))], "en"
    )
    assert "all 19 packages have a musllinux wheel: nothing is compiled" in all_there
    assert "not representative" not in all_there
    alpine = _variant(run, "alpine")
    assert alpine.image is not None
    real = _with_variant(run, "alpine", image=replace(alpine.image, base_is_standin=False))
    real_notes = render_notes([real], "en")
    assert "scikit-learn will be compiled from source" in real_notes
    assert "not representative" not in real_notes
