"""Zero config: find the Dockerfiles in a tree and guess what a manifest needs for each.

Everything here is a guess from the files alone (no engine): a name, the build context, the
file the "code edit" scenario changes, and what the final stage exposes and runs. Each guess
that could be wrong carries a note, which `bench init` writes as a comment.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bench.context.dockerfile import instructions
from bench.context.listing import context_files
from bench.errors import BenchError

# Folders no one keeps a Dockerfile of their own in, and that can be huge.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".idea",
        ".vscode",
        "site-packages",
        "dist",
        "build",
        ".eggs",
    }
)
# Files that say which dependencies to install: editing one is a dependency change, not the
# code edit the "edit" scenario stands for.
_DEPENDENCY_FILES = (
    "requirements*.txt",
    "constraints*.txt",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "Pipfile",
    "Pipfile.lock",
    "*.lock",
    "package.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "go.mod",
    "go.sum",
    "Gemfile",
    "Cargo.toml",
    "environment.yml",
    ".dockerignore",
)
# Likely entry points, best first, when no source file is copied by name.
ENTRY_POINTS = ("main.py", "app.py", "manage.py", "server.py", "wsgi.py", "asgi.py", "__main__.py")
_SOURCE_SUFFIXES = (".py", ".js", ".ts", ".go", ".rb", ".java", ".rs", ".php", ".sh")
_NAME_CHARACTERS = re.compile(r"[^a-z0-9._-]+")


def is_dockerfile(name: str) -> bool:
    """`Dockerfile`, `dockerfile`, `Dockerfile.*` and `*.Dockerfile` (not `.dockerignore`s)."""
    if name.endswith(".dockerignore"):
        return False
    return (
        name in ("Dockerfile", "dockerfile")
        or name.startswith(("Dockerfile.", "dockerfile."))
        or name.endswith((".Dockerfile", ".dockerfile"))
    )


def find_dockerfiles(root: Path) -> list[Path]:
    """The Dockerfiles under `root`, by path, skipping VCS, dependency and cache folders."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        found.extend(Path(folder) / name for name in sorted(files) if is_dockerfile(name))
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


@dataclass(frozen=True)
class DockerfileFacts:
    """What a Dockerfile says about its build and its final stage, read from its text."""

    sources: tuple[str, ...]  # COPY/ADD sources from the context, in order (no --from, no URLs)
    exposed_ports: tuple[int, ...]  # the final stage's EXPOSE (TCP)
    command: tuple[str, ...]  # the final stage's ENTRYPOINT then CMD, as written


def read_facts(text: str) -> DockerfileFacts:
    """COPY/ADD sources, and the final stage's EXPOSE, ENTRYPOINT and CMD."""
    sources: list[str] = []
    ports: list[int] = []
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            # A new stage: what runs and is exposed is the final stage's.
            ports, entrypoint, cmd = [], (), ()
        elif keyword in ("COPY", "ADD"):
            sources.extend(_copy_sources(rest))
        elif keyword == "EXPOSE":
            for word in rest.split():
                number, _, protocol = word.partition("/")
                if number.isdigit() and protocol in ("", "tcp"):
                    ports.append(int(number))
        elif keyword == "ENTRYPOINT":
            entrypoint = _command_words(rest)
        elif keyword == "CMD":
            cmd = _command_words(rest)
    return DockerfileFacts(tuple(sources), tuple(dict.fromkeys(ports)), entrypoint + cmd)


def _copy_sources(rest: str) -> list[str]:
    words = _json_words(rest)
    if words is None:
        words = rest.split()
    flags = [word for word in words if word.startswith("--")]
    if any(flag.startswith("--from") for flag in flags):
        return []  # from another stage or image, not from the context
    paths = [word for word in words if not word.startswith("--")]
    return [
        path.removeprefix("./") or "."
        for path in paths[:-1]
        if "://" not in path and not path.startswith("<<")
    ]


def _command_words(rest: str) -> tuple[str, ...]:
    words = _json_words(rest)
    if words is not None:
        return tuple(words)
    return ("/bin/sh", "-c", rest)  # the shell form, as the engine runs it


def _json_words(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        words = json.loads(rest)
    except ValueError:
        return None
    return [str(word) for word in words] if isinstance(words, list) else None


@dataclass(frozen=True)
class Guess:
    """A manifest entry guessed for one Dockerfile, with notes on what was guessed."""

    name: str
    dockerfile: Path
    context: Path
    edit_file: str
    facts: DockerfileFacts
    notes: tuple[str, ...] = ()


def guess(dockerfile: Path, context: Path | None = None, root: Path | None = None) -> Guess:
    """Name, context and edit file for `dockerfile`; without `context`, its folder, or
    `root` when it copies paths that exist only there."""
    try:
        facts = read_facts(dockerfile.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise BenchError(f"{dockerfile}: cannot read the Dockerfile: {error}") from error
    notes: list[str] = []
    if context is None:
        context, note = guess_context(dockerfile, facts.sources, root)
        if note:
            notes.append(note)
    if not context.is_dir():
        raise BenchError(f"{context}: the build context is not a directory")
    edit_file, note = guess_edit_file(context, dockerfile, facts.sources)
    notes.append(note)
    return Guess(_name(dockerfile, root), dockerfile, context, edit_file, facts, tuple(notes))


def guess_context(
    dockerfile: Path, sources: tuple[str, ...], root: Path | None
) -> tuple[Path, str | None]:
    """The Dockerfile's folder, unless what it copies exists only under `root`."""
    folder = dockerfile.parent
    missing = [source for source in sources if not _matches(folder, source)]
    if not missing or root is None or root.resolve() == folder.resolve():
        note = None
        if missing:
            note = f"COPY names {', '.join(missing)}, not found in {folder.name or '.'}/"
        return folder, note
    if all(_matches(root, source) for source in sources):
        return root, (
            f"context: the top folder, since COPY names {', '.join(missing)}, "
            f"which exists there and not beside the Dockerfile"
        )
    return folder, f"COPY names {', '.join(missing)}, found neither here nor in the top folder"


def _matches(base: Path, source: str) -> bool:
    if source in (".", "/"):
        return True
    pattern = source.lstrip("/")
    if any(character in pattern for character in "*?["):
        return any(base.glob(pattern))
    return (base / pattern).exists()


def guess_edit_file(context: Path, dockerfile: Path, sources: tuple[str, ...]) -> tuple[str, str]:
    """(edit_file relative to the context, a note saying how it was chosen).

    The last source file copied by name, else a likely entry point or source file among what
    the copies send (after `.dockerignore`; all the context sends when they send nothing),
    else the Dockerfile itself.
    """
    sent = sorted(context_files(context, dockerfile), key=lambda p: (p.count("/"), p))
    # The last COPY that carries source code decides: a file it names, else the likeliest
    # file in the folder it copies (configuration such as .flake8 is not what a developer
    # edits between builds).
    for source in reversed(sources):
        named = [
            path
            for path in _expanded(context, source, sent)
            if (context / path).is_file() and _is_source(path)
        ]
        if named:
            path = named[-1]
            return path, f"edit_file: {path}, the last source file the Dockerfile copies"
        if source not in (".", "/") and (ranked := _ranked(p for p in sent if _under(p, source))):
            path = ranked[0]
            return path, (
                f"edit_file: {path}, {_kind(path)} in {source.strip('/')}, the last folder "
                "the Dockerfile copies"
            )
    copied = [path for path in sent if any(_under(path, source) for source in sources)]
    # Where the copies name nothing that is here, what the context holds is the best hint.
    ranked = _ranked(copied or sent)
    if ranked:
        path = ranked[0]
        among = "the copied files" if copied else "the context's files"
        return path, f"edit_file: {path}, {_kind(path)} among {among} (the shallowest)"
    if str(dockerfile.resolve()).startswith(str(context.resolve()) + os.sep):
        path = dockerfile.resolve().relative_to(context.resolve()).as_posix()
        return path, (
            f"edit_file: {path}, the Dockerfile itself: it copies no source file, so the "
            "edit scenario changes nothing a build uses"
        )
    if sent:
        return sent[0], f"edit_file: {sent[0]}, the first file of the context"
    raise BenchError(f"{context}: the build context has no file to edit")


def _is_source(path: str) -> bool:
    return path.endswith(_SOURCE_SUFFIXES) and not _is_dependency_file(path)


def _ranked(paths: Iterable[str]) -> list[str]:
    """Source files, likeliest edit first: the shallowest, entry points first, a package's
    `__init__.py` (often empty) last."""
    return sorted(
        (path for path in paths if _is_source(path)),
        key=lambda path: (
            path.count("/"),
            _entry_rank(path),
            PurePosixPath(path).name == "__init__.py",
            path,
        ),
    )


def _kind(path: str) -> str:
    return "a likely entry point" if _entry_rank(path) < len(ENTRY_POINTS) else "a source file"


def _entry_rank(path: str) -> int:
    """An entry point's place in ENTRY_POINTS; any other source file after them."""
    name = PurePosixPath(path).name
    return ENTRY_POINTS.index(name) if name in ENTRY_POINTS else len(ENTRY_POINTS)


def _expanded(context: Path, source: str, sent: list[str]) -> list[str]:
    """The sent files a COPY source names by itself (a file or a glob, not a folder)."""
    pattern = source.strip("/")
    if source in (".", "/") or (context / pattern).is_dir():
        return []
    return [path for path in sorted(sent) if fnmatch.fnmatchcase(path, pattern)]


def _under(path: str, source: str) -> bool:
    folder = source.strip("/")
    return source in (".", "/") or path == folder or path.startswith(folder + "/")


def _is_dependency_file(path: str) -> bool:
    name = PurePosixPath(path).name
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _DEPENDENCY_FILES)


def _name(dockerfile: Path, root: Path | None) -> str:
    """From the folder and the file's suffix: api/Dockerfile.dev -> api-dev."""
    folder = dockerfile.parent.resolve()
    top = root.resolve() if root is not None else folder
    parts = list(folder.relative_to(top).parts) if folder.is_relative_to(top) else []
    file_name = dockerfile.name
    for prefix in ("Dockerfile.", "dockerfile."):
        if file_name.startswith(prefix):
            parts.append(file_name[len(prefix) :])
    for suffix in (".Dockerfile", ".dockerfile"):
        if file_name.endswith(suffix):
            parts.append(file_name[: -len(suffix)])
    if not parts:
        parts = [folder.name]
    return slug("-".join(parts))


def slug(text: str) -> str:
    """A variant name Docker accepts in an image tag: lower case, [a-z0-9._-]."""
    name = _NAME_CHARACTERS.sub("-", text.lower()).strip("-._")
    return name or "app"


def unique_names(names: list[str]) -> list[str]:
    """The names with -2, -3 ... added where one repeats."""
    unique: list[str] = []
    for name in names:
        candidate, number = name, 1
        while candidate in unique:
            number += 1
            candidate = f"{name}-{number}"
        unique.append(candidate)
    return unique


def command_text(words: tuple[str, ...]) -> str:
    """A command as a shell would show it."""
    return shlex.join(words)
