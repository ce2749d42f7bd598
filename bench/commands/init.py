"""`bench init DIR`: a commented variants.toml for the Dockerfiles found under DIR; and the
in-memory manifest `bench run --dockerfile PATH` measures without writing one."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench.context import discover
from bench.errors import EXIT_OK, BenchError
from bench.manifest import SCHEMA_VERSION, Manifest, SmokeSpec, Variant
from bench.run.smoke import DEFAULT_STAYS_UP_SECONDS, loopback_bind
from bench.units import parse_size_bytes

MANIFEST_NAME = "variants.toml"
# Generous on purpose: a first budget should never fail a first run; `bench check` users
# tighten it once they know the measured size.
DEFAULT_SIZE_BUDGET = "2 GB"


def run(args: argparse.Namespace) -> int:
    """Write DIR/variants.toml (refusing to replace one unless --force)."""
    root: Path = args.directory
    if not root.is_dir():
        raise BenchError(f"{root}: not a directory")
    target = root / MANIFEST_NAME
    if target.exists() and not args.force:
        raise BenchError(f"{target} exists; pass --force to replace it")
    dockerfiles = discover.find_dockerfiles(root)
    if not dockerfiles:
        raise BenchError(
            f"no Dockerfile under {root} (looked for Dockerfile, Dockerfile.*, *.Dockerfile)"
        )
    guesses = [discover.guess(path, root=root) for path in dockerfiles]
    names = discover.unique_names([g.name for g in guesses])
    text = render(root, [(name, g) for name, g in zip(names, guesses, strict=True)])
    target.write_text(text)
    print(f"wrote {target}: {len(guesses)} variant{'s' if len(guesses) != 1 else ''}")
    width = max(16, *(len(name) for name in names))
    for name, found in zip(names, guesses, strict=True):
        print(f"  {name:{width}} {_relative(found.dockerfile, root)}")
    print(f"measure them: python -m bench run --manifest {target}")
    return EXIT_OK


def render(root: Path, entries: list[tuple[str, discover.Guess]]) -> str:
    """The manifest's text: one [[variant]] per Dockerfile, each guess explained."""
    lines = [
        "# Written by `python -m bench init`: one variant per Dockerfile found. Lines marked",
        "# as guesses deserve a look. Paths are relative to this file; edit_file is relative",
        "# to the context (the 'edit' scenario appends a comment line to it and rebuilds).",
        "# A step that installs dependencies in a way the harness does not recognise (make",
        "# deps, a script) can be named in a variant, so that the report and the gate see it:",
        "#   [variant.dependency_steps]",
        "#   installs = ['make deps']",
        f"schema = {SCHEMA_VERSION}",
    ]
    for name, found in entries:
        lines += ["", "[[variant]]", f"name = {_string(name)}"]
        lines.append(f"dockerfile = {_string(_relative(found.dockerfile, root))}")
        context_notes = [note for note in found.notes if not note.startswith("edit_file")]
        lines += [f"# guess: {note}" for note in context_notes] or [
            "# guess: the context is the Dockerfile's folder"
        ]
        lines.append(f"context = {_string(_relative(found.context, root))}")
        lines.append(f"description = {_string(_relative(found.dockerfile, root))}")
        lines += [f"# guess: {note}" for note in found.notes if note.startswith("edit_file")]
        lines.append(f"edit_file = {_string(found.edit_file)}")
        lines.append("# A generous first ceiling for `bench check`: lower it to ~25 % above the")
        lines.append("# size a run measures.")
        lines.append(f"size_budget = {_string(DEFAULT_SIZE_BUDGET)}")
        lines += _smoke_lines(found)
    return "\n".join(lines) + "\n"


def _smoke_lines(found: discover.Guess) -> list[str]:
    facts = found.facts
    lines = [""]
    bind = loopback_bind(facts.command) if facts.command else None
    if bind:
        lines += [
            f"# Warning: its CMD/ENTRYPOINT binds loopback only ({bind}): nothing outside",
            "# the container can reach the app, and the smoke test fails until it binds 0.0.0.0.",
        ]
    if facts.exposed_ports:
        ports = " ".join(map(str, facts.exposed_ports))
        lines += [
            f"# guess: EXPOSE {ports} in the Dockerfile, so any HTTP answer to GET / counts as",
            "# alive. Name a path and the status (or `contains = 'text'`) your app answers.",
            "[variant.smoke]",
            'kind = "http"',
        ]
        if len(facts.exposed_ports) == 1:
            lines += [f"port = {facts.exposed_ports[0]}", 'path = "/"', 'status = "any"']
        else:
            lines.append("checks = [")
            lines += [
                f'  {{ port = {port}, path = "/", status = "any" }},'
                for port in facts.exposed_ports
            ]
            lines.append("]")
        lines += ["# env = { SETTING = 'value' }   # or env_file = 'smoke.env', for settings"]
        return lines
    return [
        *lines,
        "# No EXPOSE in the Dockerfile: without a [variant.smoke] section the built image's",
        f"# command must exit 0 or keep running for {DEFAULT_STAYS_UP_SECONDS:g} s (if its "
        "base image",
        "# EXPOSEs a port, any HTTP answer there counts instead). To check a CLI's command:",
        "# [variant.smoke]",
        '# kind = "command"',
        '# args = ["--help"]',
        "# exit_code = 0",
        '# For a service: kind = "http", port = 8000, path = "/health", status = 200;',
        '# a worker: kind = "stays-up", seconds = 10; none at all: kind = "none", reason = "..."',
    ]


def in_memory_manifest(dockerfiles: list[Path], contexts: list[Path]) -> Manifest:
    """What `run --dockerfile` measures: the guesses `init` would write, never written.

    Contexts pair with the Dockerfiles in order; a Dockerfile without one builds from its
    own folder. The smoke check is derived from each built image.
    """
    if len(contexts) > len(dockerfiles):
        raise BenchError("--context given more often than --dockerfile (they pair in order)")
    guesses: list[discover.Guess] = []
    for position, dockerfile in enumerate(dockerfiles):
        if not dockerfile.is_file():
            raise BenchError(f"--dockerfile {dockerfile}: no such file")
        context = contexts[position] if position < len(contexts) else dockerfile.parent
        if not context.is_dir():
            raise BenchError(f"--context {context}: not a directory")
        guesses.append(discover.guess(dockerfile.resolve(), context.resolve()))
    names = discover.unique_names([g.name for g in guesses])
    variants = tuple(
        Variant(
            name=name,
            dockerfile=found.dockerfile,
            context=found.context,
            description=f"{found.dockerfile.name} in {found.dockerfile.parent.name or '/'}",
            edit_file=found.edit_file,
            size_budget_bytes=parse_size_bytes(DEFAULT_SIZE_BUDGET),
            requirements=_requirements(found.context),
            smoke=SmokeSpec(),
        )
        for name, found in zip(names, guesses, strict=True)
    )
    # No file: recorded as the command's own option, relative paths from here.
    return Manifest(path=Path.cwd() / "--dockerfile", variants=variants)


def _requirements(context: Path) -> Path | None:
    path = context / "requirements.txt"
    return path if path.is_file() else None


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()


def _string(text: str) -> str:
    # JSON's string escapes are TOML basic-string escapes.
    return json.dumps(text)
