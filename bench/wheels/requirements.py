"""Requirements files read as pip reads them: decoding, continuation lines, comments,
`-r` includes, options, environment markers. Only what decides which packages the index is
asked about; options that change how pip installs them are left out (see README)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bench.wheels.target import Target

# pip's auto_decode: a byte-order mark names the encoding (real projects ship UTF-16 files
# from Windows editors); otherwise a coding comment in the first two lines; otherwise UTF-8.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")
# pip's COMMENT_RE: a comment starts at the line's start or after whitespace.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=\S))(\S+)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+|(?=\S))(\S+)")
_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


class RequirementsError(Exception):
    """A requirements file pip could not read either; the message says which and why."""


@dataclass(frozen=True)
class Requirements:
    """What a requirements file asks the index for, after markers and includes."""

    requirements: tuple[Requirement, ...]
    # Lines pip takes from elsewhere than the index (a URL, a path, -e), and why.
    unchecked: tuple[tuple[str, str], ...] = ()
    prereleases: bool = False  # --pre: pip may pick pre-release versions


def decode(data: bytes) -> str:
    """The file's text as pip decodes it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    for line in data.split(b"\n")[:2]:
        if line.lstrip().startswith(b"#") and (cookie := _CODING.search(line)):
            return data.decode(cookie.group(1).decode("ascii"))
    return data.decode("utf-8")


def logical_lines(text: str) -> list[str]:
    """Lines joined at a trailing backslash (not in a comment), comments removed, blank
    lines dropped: pip's join_lines and ignore_comments."""
    joined: list[str] = []
    pending: list[str] = []
    for line in text.splitlines():
        if not line.endswith("\\") or _COMMENT.match(line):
            if pending:
                pending.append(" " + line if _COMMENT.match(line) else line)
                joined.append("".join(pending))
                pending = []
            else:
                joined.append(line)
        else:
            pending.append(line.strip("\\"))
    if pending:
        joined.append("".join(pending))
    stripped = (_COMMENT.sub("", line).strip() for line in joined)
    return [line for line in stripped if line]


def _split_options(line: str) -> tuple[str, str]:
    """pip's break_args_options: the requirement before the first token that starts with
    `-`, the options after (`--hash=...` on a requirement's line)."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:]).strip()
    return line.strip(), ""


def _elsewhere(text: str) -> str | None:
    """Why a requirement is not taken from the index, or None when it is."""
    if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")):
        return "a URL, not from the index"
    if text.startswith((".", "/", "~")) or "/" in text or text.endswith(_ARCHIVES):
        return "a local path, not from the index"
    return None


def read(path: Path, environment: Mapping[str, str]) -> Requirements:
    """The requirements of `path` (and of the files it includes, relative to the including
    file, as pip resolves them) whose markers hold in `environment`. RequirementsError when
    a file cannot be read."""
    found: list[Requirement] = []
    unchecked: list[tuple[str, str]] = []
    prereleases = False
    seen_names: set[str] = set()
    visiting: list[Path] = []

    def visit(file: Path, shown: str) -> None:
        nonlocal prereleases
        resolved = file.resolve()
        if resolved in visiting:
            raise RequirementsError(f"{shown}: includes itself")
        try:
            text = decode(file.read_bytes())
        except FileNotFoundError:
            raise RequirementsError(f"{shown}: no such file") from None
        except OSError as error:
            raise RequirementsError(f"{shown}: cannot read: {error.strerror or error}") from None
        except (UnicodeDecodeError, LookupError) as error:
            raise RequirementsError(f"{shown}: not text pip can decode ({error})") from None
        visiting.append(resolved)
        for line in logical_lines(text):
            requirement, options = _split_options(line)
            if not requirement:
                if include := _INCLUDE.match(options):
                    target = include.group(1)
                    if "://" in target:
                        unchecked.append((line, "an included file from a URL, not read"))
                    else:
                        visit(file.parent / target, f"{shown} -> {target}")
                elif editable := _EDITABLE.match(options):
                    unchecked.append((editable.group(1), "editable (-e): not from the index"))
                elif options.split("=", 1)[0].split()[0] == "--pre":
                    prereleases = True
                # Every other option (an index, -c constraints, --hash, binary policies) is
                # not a requirement.
                continue
            invalid = ""
            try:
                parsed: Requirement | None = Requirement(requirement)
            except InvalidRequirement as error:
                first_line = str(error).splitlines()[0] if str(error) else "invalid"
                parsed, invalid = None, f"not a requirement pip reads ({first_line})"
            if parsed is not None and parsed.url is not None:
                unchecked.append((requirement, "a direct reference (name @ URL), not the index"))
                continue
            # A wheel's file name is a valid project name too: pip takes it as a path.
            why = _elsewhere(requirement.split(";", 1)[0].strip())
            if parsed is None or why is not None:
                unchecked.append((requirement, why or invalid))
                continue
            if parsed.marker is not None and not parsed.marker.evaluate(dict(environment)):
                continue  # pip ignores it on this platform
            name = canonicalize_name(parsed.name)
            if name not in seen_names:  # pip refuses a second one; the first is checked
                seen_names.add(name)
                found.append(parsed)
        visiting.pop()

    visit(path, path.name)
    return Requirements(tuple(found), tuple(unchecked), prereleases)


def marker_environment(target: Target) -> dict[str, str]:
    """The values environment markers see in the target's CPython on Linux."""
    return {
        "implementation_name": "cpython",
        "implementation_version": target.full_version,
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": target.full_version,
        "python_version": target.minor_version,
        "sys_platform": "linux",
        "extra": "",
    }
