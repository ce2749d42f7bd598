"""The code edit of the 'edit' scenario: one comment line appended to a source file, the
smallest change a developer makes, and one that keeps the file as clean as it was.

Real projects lint their code in the build (`flake8`, `black --check`, `isort --check` in a
builder stage): the edited file must still pass, or the rebuild fails for a reason of ours.
So the line uses the file's own comment syntax, its line endings and encoding, and, in
Python, the indentation of the block the file ends in (black wants two blank lines before a
top-level comment that follows a function body, none before one inside it); the file still
ends with exactly one newline.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from pathlib import Path, PurePath

# Comment syntax by file suffix; anything else gets '#' (shell, Python, YAML, TOML, Ruby...).
_LINE_COMMENT = {
    **dict.fromkeys(
        (
            ".js",
            ".mjs",
            ".cjs",
            ".ts",
            ".tsx",
            ".jsx",
            ".go",
            ".java",
            ".kt",
            ".kts",
            ".scala",
            ".c",
            ".h",
            ".cc",
            ".cpp",
            ".hpp",
            ".cs",
            ".rs",
            ".swift",
            ".php",
            ".dart",
        ),
        ("// ", ""),
    ),
    **dict.fromkeys((".sql", ".lua", ".hs", ".elm"), ("-- ", "")),
    **dict.fromkeys((".html", ".htm", ".xml", ".svg", ".vue", ".md"), ("<!-- ", " -->")),
    **dict.fromkeys((".css", ".scss", ".less"), ("/* ", " */")),
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def apply_edit(scratch_context: Path, edit_file: str, marker: str) -> None:
    """Append one comment line naming `marker` to `edit_file` in the scratch context."""
    path = scratch_context / edit_file
    data = path.read_bytes()
    encoding = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-8"
    text = data.decode(encoding, errors="surrogateescape")
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += newline
    path.write_bytes(
        (text + edit_line(edit_file, text, marker) + newline).encode(
            encoding, errors="surrogateescape"
        )
    )


def edit_line(edit_file: str, text: str, marker: str) -> str:
    """The comment line (without its newline) appended to a file with this text."""
    opener, closer = _LINE_COMMENT.get(PurePath(edit_file).suffix.lower(), ("# ", ""))
    indent = _last_block_indent(text) if edit_file.endswith((".py", ".pyi")) else ""
    return f"{indent}{opener}dockerfile-bench edit {marker}{closer}"


def _last_block_indent(source: str) -> str:
    """The indentation of the file's last logical line, so that the comment stays in the
    block that line belongs to; '' when the source does not tokenize."""
    indent = ""
    at_line_start = True
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            # NEWLINE ends a logical line; NL is a blank line or a break inside brackets.
            if token.type == tokenize.NEWLINE:
                at_line_start = True
            elif token.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
                continue
            elif token.type == tokenize.ENDMARKER:
                break
            elif at_line_start:
                indent = token.line[: token.start[1]]
                at_line_start = False
    except (tokenize.TokenError, SyntaxError):
        return ""
    return indent if not indent.strip() else ""
