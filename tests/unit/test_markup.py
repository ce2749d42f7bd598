"""The report's table helpers: what a cell may hold, and the two forms."""

from __future__ import annotations

from bench.report.markup import pipe_table, plain_table


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
