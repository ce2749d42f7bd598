"""A layer read from the directory the engine unpacked it into, as its tar would list it.

An overlay store (Engine 20.10's overlay2 graph driver, containerd's overlayfs snapshotter)
keeps each layer as a directory: the files it added or changed, a deletion as a character
device 0/0 (the whiteout) and a directory that hides everything below it as one with the
`trusted.overlay.opaque` (or, unprivileged, `user.overlay.opaque`) attribute set to "y".
Walking that directory gives the same entries, sizes and RECORD files as the layer's tar in
`docker save` (bench/layers/savestream.py), without reading a byte of file contents:

- the order is the engine's tar writer's (Go's filepath.Walk: depth first, each directory's
  names sorted bytewise, a directory before what it holds), which is how moby and containerd
  write a layer they commit;
- a whiteout becomes `.wh.NAME`, an opaque directory is followed by `.wh..wh..opq`, as the
  engine's writer converts them;
- a file with more than one link is written once with its size; its later names (in walk
  order, within the layer) are hard links of size 0;
- a sparse file counts its logical size (st_size), as its tar header does; sockets are left
  out, as the engine's writer leaves them out.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from bench.layers.entries import RECORD_PATH, Entry, SavedLayer

OPAQUE_MARKER = ".wh..wh..opq"
# Whose tar writer made the layer, which decides which name of a linked file carries its
# bytes: moby's (the classic store) gives them to the first name in walk order.
TarWriter = Literal["moby", "containerd"]
_WHITEOUT = ".wh."
_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")


class LayerDirError(Exception):
    """A layer directory that cannot be read (gone, or not ours to read)."""


def read_layer_dir(
    name: str, directory: Path, writer: TarWriter = "moby", below: Sequence[Path] = ()
) -> SavedLayer:
    """The layer unpacked in `directory`, named `name`, as `docker save` would give it;
    `below` are the directories of the layers under it, top first (see `TarWriter`)."""
    layer = SavedLayer(name)
    walker = _Walker(layer)
    try:
        if _is_opaque(os.fspath(directory)):
            layer.entries.append(Entry(OPAQUE_MARKER, 0, False))
        walker.visit(os.fspath(directory), "")
        if writer == "containerd":
            walker.move_sizes_to_changed_names(below)
    except OSError as error:
        raise LayerDirError(f"cannot read layer directory {directory}: {error}") from None
    return layer


class _Walker:
    """One layer's walk: its entries so far, and the inodes of files with several links."""

    def __init__(self, layer: SavedLayer) -> None:
        self.layer = layer
        self.linked: set[tuple[int, int]] = set()
        # inode -> (index in entries, stat) of each of its names, in walk order
        self.names: dict[tuple[int, int], list[tuple[int, os.stat_result]]] = {}

    def move_sizes_to_changed_names(self, below: Sequence[Path]) -> None:
        """containerd's tar writer writes the names of a linked file that are unchanged from
        the layers below (a link made to a lower file copies it up) after a changed one, as
        links: the file's bytes go with the first changed name (walk order), if any."""
        entries = self.layer.entries
        for names in self.names.values():
            changed = [
                (index, info)
                for index, info in names
                if not _unchanged_below(entries[index].path, info, below)
            ]
            if not changed or changed[0][0] == names[0][0]:
                continue
            first, carrier = names[0][0], changed[0][0]
            entries[carrier] = entries[carrier]._replace(size=entries[first].size)
            entries[first] = entries[first]._replace(size=0)

    def visit(self, directory: str, prefix: str) -> None:
        layer = self.layer
        entries = layer.entries
        with os.scandir(directory) as found:
            children = sorted(found, key=_name)
        if not all(child.name.isascii() for child in children):
            # Go sorts names as bytes; str order differs only for undecodable names.
            children.sort(key=_bytewise)
        for child in children:
            path = prefix + child.name
            info = child.stat(follow_symlinks=False)
            mode = info.st_mode
            if stat.S_ISDIR(mode):
                entries.append(Entry(path, 0, True))
                if _is_opaque(child.path):
                    entries.append(Entry(f"{path}/{OPAQUE_MARKER}", 0, False))
                self.visit(child.path, path + "/")
            elif stat.S_ISREG(mode):
                if info.st_nlink > 1:
                    inode = (info.st_dev, info.st_ino)
                    self.names.setdefault(inode, []).append((len(entries), info))
                    if inode in self.linked:
                        entries.append(Entry(path, 0, False))  # a hard link: no data of its own
                        continue
                    self.linked.add(inode)
                entries.append(Entry(path, info.st_size, False))
                layer.size_bytes += info.st_size
                if path.endswith("/RECORD") and RECORD_PATH.search(path):
                    text = Path(child.path).read_bytes().decode("utf-8", "replace")
                    layer.records[path] = text
            elif stat.S_ISLNK(mode):
                entries.append(Entry(path, 0, False))
                layer.symlink_bytes += len(os.fsencode(os.readlink(child.path)))  # noqa: PTH115  # str, no Path per link
            elif stat.S_ISCHR(mode) and info.st_rdev == 0:
                entries.append(Entry(prefix + _WHITEOUT + child.name, 0, False))
            elif not stat.S_ISSOCK(mode):
                entries.append(Entry(path, 0, False))  # a fifo or a device: a header only


def _unchanged_below(path: str, info: os.stat_result, below: Sequence[Path]) -> bool:
    """Whether the topmost lower layer that has `path` has it with the same metadata (what
    containerd compares to call a file unmodified)."""
    for directory in below:
        try:
            lower = (directory / path).lstat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        return (lower.st_mode, lower.st_size, lower.st_mtime_ns, lower.st_uid, lower.st_gid) == (
            info.st_mode,
            info.st_size,
            info.st_mtime_ns,
            info.st_uid,
            info.st_gid,
        )
    return False


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _bytewise(entry: os.DirEntry[str]) -> bytes:
    return os.fsencode(entry.name)


def _is_opaque(path: str) -> bool:
    for attribute in _OPAQUE_XATTRS:
        try:
            if os.getxattr(path, attribute, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue  # not set (ENODATA), or a namespace this file system lacks
    return False
