"""The edit scenario's change: one comment line that keeps the file as lint-clean as it was."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from bench.context.edit import apply_edit, edit_line


def _edited(tmp_path: Path, name: str, data: bytes) -> bytes:
    (tmp_path / name).write_bytes(data)
    apply_edit(tmp_path, name, "m1")
    return (tmp_path / name).read_bytes()


@pytest.mark.parametrize(
    ("source", "expected_line"),
    [
        # After a function body black wants two blank lines before a top-level comment:
        # inside the body it wants none.
        ("def main():\n    return 0\n", "    # dockerfile-bench edit m1"),
        ('if __name__ == "__main__":\n    main()\n', "    # dockerfile-bench edit m1"),
        ("X = call(\n    1,\n    2,\n)\n", "# dockerfile-bench edit m1"),
        ("def f():\n    return g(\n        1,\n    )\n", "    # dockerfile-bench edit m1"),
        ('def f():\n    """Doc\n    more.\n    """\n', "    # dockerfile-bench edit m1"),
        ("class A:\n    def f(self):\n        pass\n", "        # dockerfile-bench edit m1"),
        ("import os\n", "# dockerfile-bench edit m1"),
        ("def broken(:\n", "# dockerfile-bench edit m1"),  # no tokens: column 0
        ("", "# dockerfile-bench edit m1"),
    ],
)
def test_python_comments_stay_in_the_last_block(source: str, expected_line: str) -> None:
    assert edit_line("app/main.py", source, "m1") == expected_line


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("server.js", "// dockerfile-bench edit m1"),
        ("main.go", "// dockerfile-bench edit m1"),
        ("index.html", "<!-- dockerfile-bench edit m1 -->"),
        ("style.css", "/* dockerfile-bench edit m1 */"),
        ("schema.sql", "-- dockerfile-bench edit m1"),
        ("entrypoint.sh", "# dockerfile-bench edit m1"),
        ("config.yaml", "# dockerfile-bench edit m1"),
    ],
)
def test_other_languages_get_their_own_comment_syntax(name: str, expected: str) -> None:
    assert edit_line(name, "x\n", "m1") == expected


def test_the_file_ends_with_exactly_one_newline(tmp_path: Path) -> None:
    assert _edited(tmp_path, "a.py", b"x = 1\n") == b"x = 1\n# dockerfile-bench edit m1\n"
    assert _edited(tmp_path, "b.py", b"x = 1") == b"x = 1\n# dockerfile-bench edit m1\n"


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    edited = _edited(tmp_path, "a.py", b"def f():\r\n    return 1\r\n")
    assert edited == b"def f():\r\n    return 1\r\n    # dockerfile-bench edit m1\r\n"


def test_a_utf16_file_stays_utf16(tmp_path: Path) -> None:
    source = "x = 'é'\r\n".encode("utf-16")
    assert source.startswith(codecs.BOM_UTF16_LE)
    edited = _edited(tmp_path, "a.py", source)
    assert edited.decode("utf-16") == "x = 'é'\r\n# dockerfile-bench edit m1\r\n"
    assert edited.count(codecs.BOM_UTF16_LE) == 1


def test_bytes_that_are_not_utf8_survive(tmp_path: Path) -> None:
    edited = _edited(tmp_path, "a.sh", b"echo \xff\n")
    assert edited == b"echo \xff\n# dockerfile-bench edit m1\n"
