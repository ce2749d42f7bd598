"""Paths as the reports show them: nothing that names the machine the results were made on.

Results files keep the paths as recorded; only their rendering changes. Paths are POSIX
(the engine and the lab are Linux), so posixpath decides, whatever the renderer runs on.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A home directory anywhere in a text: /root, /home/<user> or /Users/<user>, ending the text
# or followed by a path separator or punctuation. Not preceded by a name character, so
# /srv/home/x or /data/root stay as they are. Any user's home, not only this machine's $HOME:
# the results may come from another machine.
_USER = r"[^/\s`'\"<>]+"
_HOME = re.compile(rf"(?<![\w.~-])(?:/root|/home/{_USER}|/Users/{_USER})(?=[/\s`'\",;)<]|$)")

MANIFEST_FOLDER = "the manifest's folder"
COMMON_FOLDER = "the Dockerfiles' common folder"


@dataclass(frozen=True)
class ShownPaths:
    """Dockerfiles as a report lists them, and the folder they are relative to."""

    dockerfiles: tuple[str, ...]
    relative_to: str


def tilde_home(text: str) -> str:
    """The text with every home directory in it (/root, /home/<user>, /Users/<user>) as `~`."""
    return _HOME.sub("~", text)


def file_name(path: str) -> str:
    """A file as a report names it (the manifest, the docker CLI): its folder is the machine's."""
    return posixpath.basename(path) or path


def shown_dockerfiles(dockerfiles: Sequence[str], manifest: str | None) -> ShownPaths:
    """Each Dockerfile relative to the manifest's folder, or to the files' common folder.

    relpath, so a Dockerfile outside the folder reads `../x/Dockerfile`. Without a manifest
    (results from before it was recorded), or when it and the Dockerfiles cannot be related
    (one absolute, the other relative), the Dockerfiles' longest common folder is the base;
    a single Dockerfile then shows as its file name.
    """
    if manifest and all(_absolute(path) == _absolute(manifest) for path in dockerfiles):
        base = posixpath.dirname(manifest) or "."
        return ShownPaths(_relative(dockerfiles, base), MANIFEST_FOLDER)
    folders = [posixpath.dirname(path) or "." for path in dockerfiles]
    if folders and len({_absolute(folder) for folder in folders}) == 1:
        return ShownPaths(_relative(dockerfiles, posixpath.commonpath(folders)), COMMON_FOLDER)
    # Absolute and relative Dockerfiles together: no common folder. A relative path names no
    # machine and stays; an absolute one shows as its file name.
    return ShownPaths(
        tuple(posixpath.basename(path) if _absolute(path) else path for path in dockerfiles),
        COMMON_FOLDER,
    )


def _absolute(path: str) -> bool:
    return path.startswith("/")


def _relative(paths: Sequence[str], base: str) -> tuple[str, ...]:
    # Both sides absolute or both relative: relpath then depends on the two paths alone,
    # not on the directory the renderer runs in.
    return tuple(tilde_home(posixpath.relpath(path, base)) for path in paths)
