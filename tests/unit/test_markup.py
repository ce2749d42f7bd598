"""The report's table helpers: what a cell may hold, and the two forms."""

from __future__ import annotations

from bench.models import Status, VariantResult
from bench.report.markup import absent, pipe_table, plain_table


def test_pipe_table_pads_aligns_left_and_keeps_numbers_as_written() -> None:
    assert pipe_table(["name", "n"], [["a", "1.50"], ["bbb", "007"]]).splitlines() == [
        "| name   | n    |",
        "|:-------|:-----|",
        "| a      | 1.50 |",
        "| bbb    | 007  |",
    ]


def test_pipe_table_escapes_pipes_and_keeps_each_row_on_one_line() -> None:
    table = pipe_table(["cmd"], [["RUN a | tee log\n  && b"]])
    assert table.splitlines()[2] == "| RUN a \\| tee log && b |"
    assert len(table.splitlines()) == 3


def test_plain_table_is_for_the_terminal() -> None:
    assert plain_table(["variant", "verdict"], [["slim", "PASS"]]) == (
        "variant    verdict\n---------  ---------\nslim       PASS"
    )


def test_a_missing_record_says_why_and_never_blames_a_smoke_test() -> None:
    def variant(status: Status, reason: str | None) -> VariantResult:
        return VariantResult("api", "d", "Dockerfile", status, reason=reason)

    assert absent(variant("ok", None)) == "not measured"
    assert absent(variant("failed", "build failed: exit 1")) == "failed: build"
    assert absent(variant("skipped", "not selected")) == "skipped: not selected"
    # Every build ran before the smoke test failed: a missing record was not asked for.
    assert absent(variant("failed", "smoke test failed: exited with code 1")) == "not measured"
    # Korean text is two columns a character: the raw table still lines up (wcwidth).
    assert pipe_table(["상황", "n"], [["첫 빌드", "1"]]).splitlines()[2] == "| 첫 빌드 | 1   |"
