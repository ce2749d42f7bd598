"""What counts as installing dependencies: the one rule the report and the size gate share.

A build step installs dependencies when one of its shell commands runs a package manager's
install or sync of requirements, a lock file or named packages: re-running it after a code
edit is the cache bust the naive variant demonstrates. Installing the project itself
(`pip install --no-deps .`, `pip install -e .` after the dependencies) is not.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

# Shell separators between commands of one RUN (`a && b`, `a; b`, `a || b`, `a | b`).
_SEPARATOR = re.compile(r"&&|\|\||;|\||\n")
# pip's options that take a value (the value is not a package to install).
_PIP_VALUE_OPTIONS = {
    "-c",
    "--constraint",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--cache-dir",
    "--trusted-host",
    "--progress-bar",
    "--python",
    "-p",
}
# Commands that fetch or sync dependencies from a manifest or lock file, whatever follows.
_LOCKFILE_INSTALLS: tuple[tuple[str, ...], ...] = (
    ("uv", "sync"),
    ("pipenv", "install"),
    ("pipenv", "sync"),
    ("pdm", "install"),
    ("pdm", "sync"),
    ("conda", "install"),
    ("mamba", "install"),
    ("npm", "ci"),
    ("npm", "install"),
    ("npm", "i"),
    ("yarn", "install"),
    ("pnpm", "install"),
    ("pnpm", "i"),
    ("bundle", "install"),
    ("go", "mod", "download"),
    ("cargo", "fetch"),
)


@dataclass(frozen=True)
class DependencyOverride:
    """A manifest's correction of the rule for one variant (`[variant.dependency_steps]`),
    for what the rule cannot know: a Makefile target or a script that installs the
    dependencies, or a step it counts that only installs the project. Each entry is text a
    RUN instruction contains; `not_installs` wins over `installs`, and both win over the rule.
    """

    installs: tuple[str, ...] = ()
    not_installs: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the manifest corrects nothing: the rule alone decides."""
        return not self.installs and not self.not_installs


NO_OVERRIDE = DependencyOverride()


def installs_dependencies(instruction: str, override: DependencyOverride = NO_OVERRIDE) -> bool:
    """True for a RUN instruction with a command that installs dependencies."""
    if not instruction.upper().startswith("RUN "):
        return False
    if any(text in instruction for text in override.not_installs):
        return False
    if any(text in instruction for text in override.installs):
        return True
    return any(_command_installs(_words(command)) for command in _SEPARATOR.split(instruction[4:]))


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:  # an unbalanced quote in a shell fragment: words split on blanks
        return command.split()


def _command_installs(words: list[str]) -> bool:
    words = _without_prefixes(words)
    if not words:
        return False
    program = words[0].rsplit("/", 1)[-1]
    if program in ("yarn",) and len(words) == 1:
        return True  # a bare `yarn` installs from package.json
    if program == "poetry" and words[1:2] == ["install"]:
        return "--only-root" not in words
    for prefix in _LOCKFILE_INSTALLS:
        if (program, *words[1 : len(prefix)]) == prefix:
            return True
    pip_arguments = _pip_install_arguments(program, words)
    return pip_arguments is not None and _pip_installs_dependencies(pip_arguments)


def _without_prefixes(words: list[str]) -> list[str]:
    """The command without what runs it: `env A=1`, `sudo`, `VAR=value`, `exec`."""
    while words and (words[0] in ("sudo", "env", "exec", "time") or "=" in words[0]):
        words = words[1:]
    return words


def _pip_install_arguments(program: str, words: Sequence[str]) -> list[str] | None:
    """The arguments after `install` of a pip install in any of its spellings, or None."""
    if re.fullmatch(r"pip(3(\.\d+)?)?", program) and words[1:2] == ["install"]:
        return list(words[2:])
    if re.fullmatch(r"python(3(\.\d+)?)?", program) and list(words[1:4]) == [
        "-m",
        "pip",
        "install",
    ]:
        return list(words[4:])
    if program == "uv" and list(words[1:3]) == ["pip", "install"]:
        return list(words[3:])
    return None


def _pip_installs_dependencies(arguments: Sequence[str]) -> bool:
    """Requirements files and named packages are dependencies; local paths are the project
    itself (its own dependencies come with it unless --no-deps, but a Dockerfile installs
    those in an earlier step, which is the one a code edit must not re-run)."""
    targets: list[str] = []
    skip_value = False
    for word in arguments:
        if skip_value:
            skip_value = False
            continue
        if word in ("-r", "--requirement"):
            return True
        if word.startswith(("-r", "--requirement=")):
            return True
        if word in _PIP_VALUE_OPTIONS:
            skip_value = True
            continue
        if word in ("-e", "--editable"):
            continue
        if word.startswith("-"):
            continue
        targets.append(word)
    return any(not _is_local_path(target) for target in targets)


def _is_local_path(target: str) -> bool:
    return target.startswith((".", "/", "~")) or target.endswith((".whl", ".tar.gz", ".zip"))
