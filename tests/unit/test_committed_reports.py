"""Every committed report is what the code renders from its committed results, byte for byte.

Each view is rendered by the function its command calls (the report command's
write_reports, perf --render-only's render_json) into a temporary directory and compared
with the committed file. When a change to a renderer is intended, regenerate the views with
the command in the failure message (from the repository root) and commit them with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import storage
from bench.commands.perf import render_json
from bench.commands.run import write_reports
from bench.report.engines import render_engines
from bench.report.notes import render_notes
from bench.report.notes_text.template import Language

REPO = Path(__file__).parents[2]
REPORTS = REPO / "reports"
# Absolute paths of the machine that made the results, or a home directory on any machine.
_MACHINE_PATHS = ("/root/", "/home/", "/work/", "/Users/")


@dataclass(frozen=True)
class View:
    """A committed report folder, the results it is rendered from, and the command."""

    name: str
    report_dir: Path
    results: tuple[Path, ...]
    command: str


def _views() -> list[View]:
    matrix = REPORTS / "matrix"
    return [
        # `python -m bench report` without arguments renders the newest results file.
        View(
            "latest",
            REPORTS,
            (storage.latest_results(REPORTS / "results"),),
            "python -m bench report",
        ),
        View(
            "matrix",
            matrix,
            tuple(sorted((matrix / "results").glob("*.json"))),
            "python -m bench report reports/matrix/results/*.json --report-dir reports/matrix",
        ),
    ]


def _differs(committed: Path, command: str, sources: str) -> str:
    return (
        f"{committed.relative_to(REPO)} is not what the code renders from {sources}; "
        f"if the change is intended, regenerate it from the repository root with "
        f"`{command}` and commit it"
    )


@pytest.mark.parametrize("view", _views(), ids=lambda view: view.name)
def test_report_is_rendered_from_its_results(view: View, tmp_path: Path) -> None:
    assert view.results, f"no results files for {view.report_dir.relative_to(REPO)}"
    runs = [storage.load(path) for path in view.results]
    written = write_reports(runs, list(view.results), tmp_path)
    sources = ", ".join(str(path.relative_to(REPO)) for path in view.results)
    for name in ("latest.md", "samples.csv"):
        committed = view.report_dir / name
        assert committed.is_file(), _differs(committed, view.command, sources)
        assert (tmp_path / name).read_bytes() == committed.read_bytes(), _differs(
            committed, view.command, sources
        )
    # The charts are not compared byte for byte (matplotlib versions draw differently), but
    # the markdown links exactly the charts the command writes, and those are committed,
    # with no chart left over from an earlier render.
    charts = {path.name for path in written if path.suffix == ".png"}
    committed_charts = {path.name for path in view.report_dir.glob("*.png")}
    assert committed_charts == charts, _differs(view.report_dir / "*.png", view.command, sources)
    linked = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (tmp_path / "latest.md").read_text()))
    assert linked == charts


def test_perf_page_is_rendered_from_perf_json() -> None:
    committed = REPORTS / "perf.md"
    rendered = render_json(REPORTS / "perf.json").encode("utf-8")  # as write_text_atomic
    assert rendered == committed.read_bytes(), _differs(
        committed, "python -m bench perf --render-only", "reports/perf.json"
    )


@pytest.mark.parametrize(
    ("language", "name"), [("en", "notes.md"), ("ko", "notes.ko.md")], ids=["en", "ko"]
)
def test_notes_are_rendered_from_the_newest_results(language: Language, name: str) -> None:
    # `python -m bench notes` without a results file renders the newest, as `report` does.
    source = storage.latest_results(REPORTS / "results")
    committed = REPORTS / name
    rendered = render_notes([storage.load(source)], language).encode("utf-8")
    assert committed.is_file() and rendered == committed.read_bytes(), _differs(
        committed,
        f"python -m bench notes --lang {language} --out reports/{name}",
        str(source.relative_to(REPO)),
    )


def test_engines_page_is_rendered_from_its_results() -> None:
    # One run per setup; the file names sort by start time, the first setup is the reference.
    sources = sorted((REPORTS / "engines" / "results").glob("*.json"))
    assert sources, "no results in reports/engines/results"
    committed = REPORTS / "engines.md"
    rendered = render_engines([storage.load(path) for path in sources]).encode("utf-8")
    assert committed.is_file() and rendered == committed.read_bytes(), _differs(
        committed,
        "python -m bench report --engines reports/engines/results/*.json",
        ", ".join(str(path.relative_to(REPO)) for path in sources),
    )


def _committed_reports() -> list[Path]:
    # The rendered views, not the results and baseline they are made from (those keep the
    # paths as recorded).
    return sorted(
        path
        for path in REPORTS.rglob("*")
        if path.suffix in (".md", ".csv") and "results" not in path.relative_to(REPORTS).parts
    )


def test_the_committed_reports_are_all_checked() -> None:
    assert [path.relative_to(REPORTS).as_posix() for path in _committed_reports()] == [
        "engines.md",
        "latest.md",
        "matrix/latest.md",
        "matrix/samples.csv",
        "notes.ko.md",
        "notes.md",
        "perf.md",
        "samples.csv",
    ]


@pytest.mark.parametrize(
    "report", _committed_reports(), ids=lambda path: path.relative_to(REPORTS).as_posix()
)
def test_no_machine_path_in_a_committed_report(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    # At the start of a path: `engine26/root/run` is a folder named root, not a home.
    found = [
        prefix for prefix in _MACHINE_PATHS if re.search(r"(?<![\w.~-])" + re.escape(prefix), text)
    ]
    assert not found, f"{report.relative_to(REPO)} names machine paths {found}"
