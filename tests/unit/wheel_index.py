"""A fake package index whose file lists mirror PyPI's for the sample app's requirements
(checked on PyPI for the issue): numpy 2.3.5, scipy 1.16.3 and pydantic-core 2.50.5 publish
musllinux wheels for CPython 3.11 and 3.13; scikit-learn 1.8.0 publishes manylinux, macOS
and Windows wheels and an sdist, but no musllinux wheel; the rest are pure Python."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bench.wheels.index import Page

INDEX_URL = "http://index.test/simple/"

PURE = {
    "annotated-doc": "0.0.7",
    "annotated-types": "0.8.0",
    "anyio": "4.16.0",
    "click": "8.5.1",
    "fastapi": "0.164.0",
    "h11": "0.16.0",
    "idna": "3.20",
    "joblib": "1.5.3",
    "opentelemetry-api": "1.45.2",
    "pydantic": "2.14.4",
    "starlette": "1.10.0",
    "threadpoolctl": "3.8.0",
    "typing-extensions": "4.16.0",
    "typing-inspection": "0.4.5",
    "uvicorn": "0.53.0",
}
_PYTHONS = ("cp311", "cp313")


def _stem(name: str) -> str:
    return name.replace("-", "_")


def _compiled(name: str, version: str, platforms: Sequence[str]) -> list[str]:
    return [
        f"{_stem(name)}-{version}-{python}-{python}-{platform}.whl"
        for python in _PYTHONS
        for platform in platforms
    ] + [f"{_stem(name)}-{version}.tar.gz"]


_MANYLINUX_2_28 = "manylinux_2_27_x86_64.manylinux_2_28_x86_64"
_ELSEWHERE = ("macosx_11_0_arm64", "win_amd64")


def sample_files() -> dict[str, list[str]]:
    """Project name -> the file names its index page lists."""
    files = {
        name: [f"{_stem(name)}-{version}-py3-none-any.whl", f"{_stem(name)}-{version}.tar.gz"]
        for name, version in PURE.items()
    }
    files["numpy"] = _compiled(
        "numpy", "2.3.5", [_MANYLINUX_2_28, "musllinux_1_2_x86_64", *_ELSEWHERE]
    )
    files["scipy"] = _compiled(
        "scipy", "1.16.3", [_MANYLINUX_2_28, "musllinux_1_2_x86_64", *_ELSEWHERE]
    )
    files["pydantic-core"] = _compiled(
        "pydantic_core",
        "2.50.5",
        ["manylinux_2_17_x86_64.manylinux2014_x86_64", "musllinux_1_1_x86_64", *_ELSEWHERE],
    )
    # No musllinux wheel: on Alpine pip builds it from the sdist.
    files["scikit-learn"] = _compiled("scikit_learn", "1.8.0", [_MANYLINUX_2_28, *_ELSEWHERE])
    return files


def json_page(files: Sequence[str | Mapping[str, object]]) -> Page:
    """A PEP 691 project page listing these files (a name, or a whole file entry)."""
    entries = [{"filename": f, "hashes": {}, "url": f} if isinstance(f, str) else f for f in files]
    body = json.dumps({"meta": {"api-version": "1.0"}, "name": "x", "files": entries})
    return Page("application/vnd.pypi.simple.v1+json", body.encode())


class FakeIndex:
    """A fetch function over a dict of projects; remembers every URL it was asked."""

    def __init__(self, projects: Mapping[str, Sequence[str | Mapping[str, object]]]) -> None:
        self.projects = projects
        self.asked: list[str] = []

    def __call__(self, url: str) -> Page | None:
        self.asked.append(url)
        assert url.startswith(INDEX_URL) and url.endswith("/"), url
        name = url.removeprefix(INDEX_URL).rstrip("/")
        files = self.projects.get(name)
        return None if files is None else json_page(files)
