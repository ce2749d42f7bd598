"""The streamed build context: docker-py's tar, byte for byte, made while it is sent."""

from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest
from docker.api.build import process_dockerfile
from docker.utils.build import create_archive, tar

from bench.context import tar as context_tar
from bench.context.listing import context_upload
from bench.context.tar import ContextReadError, tar_stream


def _context(root: Path) -> Path:
    """Small and large files, empty ones, a symlink, a hard link, nested directories."""
    rng = random.Random(3)
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "main.py").write_text("print('hi')\n")
    (root / "src" / "pkg" / "zero.txt").write_bytes(b"")
    (root / "src" / "block.bin").write_bytes(rng.randbytes(512))  # exactly one block
    (root / "src" / "just-below.bin").write_bytes(rng.randbytes(64 * 1024 - 1))
    (root / "src" / "just-above.bin").write_bytes(rng.randbytes(64 * 1024))
    (root / "big.bin").write_bytes(rng.randbytes(3 * context_tar.CHUNK_BYTES + 17))
    (root / "link").symlink_to("main.py")
    os.link(root / "main.py", root / "src" / "hard.py")
    (root / ("n" * 120 + ".txt")).write_text("a name longer than ustar's 100 bytes\n")
    (root / "many").mkdir()
    for index in range(300):  # enough small files to fill more than one joined chunk
        (root / "many" / f"f{index:03d}").write_bytes(rng.randbytes(5000))
    return root


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def _names(archive: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        return opened.getnames()


def _read(archive: Any) -> bytes:
    """All of docker-py's temporary archive file (its stubs type it loosely)."""
    with archive:
        data: bytes = archive.read()
    return data


def _docker_py(root: Path, files: list[str], extra: list[tuple[str, str]]) -> bytes:
    return _read(create_archive(str(root), files=files, extra_files=extra))


def test_the_stream_is_docker_pys_archive_byte_for_byte(tmp_path: Path) -> None:
    root = _context(tmp_path / "ctx")
    files = _listing(root)
    ours = b"".join(tar_stream(root, files))
    assert ours == _docker_py(root, files, [])
    assert sorted(_names(ours)) == files
    assert len(ours) % tarfile.RECORDSIZE == 0


def test_extra_files_replace_context_files_and_come_last(tmp_path: Path) -> None:
    root = _context(tmp_path / "ctx")
    (root / ".dockerignore").write_text("big.bin\n")
    files = _listing(root)
    extra = [(".dockerignore", "big.bin\n.dockerfile.x"), (".dockerfile.x", "FROM scratch\n")]
    ours = b"".join(tar_stream(root, files, {name: text.encode() for name, text in extra}))
    assert ours == _docker_py(root, files, extra)
    names = _names(ours)
    assert names[-2:] == [".dockerignore", ".dockerfile.x"]
    assert names.count(".dockerignore") == 1


@pytest.mark.parametrize("outside", [True, False])
def test_the_upload_sends_what_docker_py_would(tmp_path: Path, outside: bool) -> None:
    """The same files, `.dockerignore` rules and Dockerfile handling as
    `APIClient.build(path=...)`; the random name of an outside Dockerfile is seeded."""
    root = _context(tmp_path / "ctx")
    (root / ".dockerignore").write_text("# comment\nbig.bin\nmany/f1*\n!many/f123\n\n")
    dockerfile = tmp_path / "elsewhere" / "Dockerfile" if outside else root / "Dockerfile"
    dockerfile.parent.mkdir(exist_ok=True)
    dockerfile.write_text("FROM scratch\nCOPY . /\n")

    random.seed(11)
    stream, name = context_upload(root, dockerfile)
    ours = b"".join(stream)
    random.seed(11)
    expected_name = process_dockerfile(str(dockerfile), str(root))
    exclude = ["big.bin", "many/f1*", "!many/f123"]
    assert ours == _read(tar(root, exclude=exclude, dockerfile=expected_name))
    assert name == expected_name[0]
    names = _names(ours)
    assert "big.bin" not in names and "many/f123" in names and "many/f124" not in names
    assert name.startswith(".dockerfile.") == outside


def test_files_are_read_only_as_the_stream_is_consumed(tmp_path: Path) -> None:
    """Nothing is staged: a file removed after the first chunk went out is missed then."""
    root = tmp_path / "ctx"
    root.mkdir()
    for name in ("a.bin", "b.bin"):
        (root / name).write_bytes(bytes(2 * context_tar.CHUNK_BYTES))
    stream = tar_stream(root, ["a.bin", "b.bin"])
    first = next(stream)
    assert len(first) <= context_tar.CHUNK_BYTES
    (root / "b.bin").unlink()
    with pytest.raises(ContextReadError, match=r"cannot read 'b\.bin' in the build context"):
        list(stream)


def test_a_file_that_shrinks_while_sent_fails_with_its_name(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "data.bin").write_bytes(bytes(3 * context_tar.CHUNK_BYTES))
    stream = tar_stream(root, ["data.bin"])
    next(stream)  # its header went out with the size it had then
    next(stream)
    (root / "data.bin").write_bytes(b"short")
    with pytest.raises(ContextReadError, match=r"'data\.bin' in the build context changed size"):
        list(stream)


def test_a_read_error_is_not_an_os_error() -> None:
    """requests turns an OSError raised while it sends a body into a ConnectionError,
    which the engine module reports as a lost engine; this is a failed build instead."""
    assert not issubclass(ContextReadError, OSError)
