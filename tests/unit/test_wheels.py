"""The wheel check: targets from base names, requirements read as pip reads them, verdicts
against a fake index that mirrors PyPI for the sample app, and the real urllib client
against a throwaway HTTP server on 127.0.0.1."""

from __future__ import annotations

import codecs
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from packaging.requirements import Requirement

from bench import manifest
from bench.cli import _parser
from bench.models import PackageWheel, WheelCheck
from bench.wheels import requirements as requirements_file
from bench.wheels.check import WheelChecker, decide
from bench.wheels.index import IndexUnavailable, Page, project_files, project_url, urllib_fetch
from bench.wheels.target import NoTarget, Target, target_of
from tests.unit.wheel_index import INDEX_URL, FakeIndex, json_page, sample_files

REPO = Path(__file__).resolve().parents[2]
APP_REQUIREMENTS = REPO / "variants" / "app" / "requirements.txt"
PY311_GLIBC = Target("3.11", "manylinux", 36)
PY311_MUSL = Target("3.11", "musllinux", 2)


def _dockerfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


# Targets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "python", "platform", "tag"),
    [
        ("python:3.11-alpine", "3.11", "musllinux", "musllinux_1_2_x86_64"),
        ("python:3.11-alpine3.20", "3.11", "musllinux", "musllinux_1_2_x86_64"),
        ("python:3.12-slim-bookworm", "3.12", "manylinux", "manylinux_2_36_x86_64"),
        ("python:3.11.7-slim-trixie", "3.11.7", "manylinux", "manylinux_2_41_x86_64"),
        ("python:3.13", "3.13", "manylinux", "manylinux_2_36_x86_64"),
        ("docker.io/library/python:3.10-bullseye", "3.10", "manylinux", "manylinux_2_31_x86_64"),
        ("ghcr.io/astral-sh/uv:python3.12-alpine", "3.12", "musllinux", "musllinux_1_2_x86_64"),
    ],
)
def test_a_base_name_gives_python_and_libc(
    reference: str, python: str, platform: str, tag: str
) -> None:
    target = target_of(reference)
    assert (target.python_version, target.platform, target.platform_tags[0]) == (
        python,
        platform,
        tag,
    )


@pytest.mark.parametrize(
    ("reference", "why"),
    [
        ("debian:bookworm", "debian:bookworm names no Python version"),
        ("python:latest", "the tag 'latest' names no Python version"),
        ("python:3-slim", "the tag '3-slim' names no Python version"),
        ("python@sha256:0123", "pinned by digest"),
    ],
)
def test_a_base_without_a_python_version_gives_no_target(reference: str, why: str) -> None:
    with pytest.raises(NoTarget, match=why):
        target_of(reference)


def test_glibc_accepts_older_manylinux_and_the_legacy_names() -> None:
    tags = PY311_GLIBC.platform_tags
    assert tags[:2] == ["manylinux_2_36_x86_64", "manylinux_2_35_x86_64"]
    assert {"manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert not any("musllinux" in tag for tag in tags)
    assert PY311_MUSL.platform_tags == [
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
        "linux_x86_64",
    ]


# Requirements files ------------------------------------------------------------------------------


def _env(target: Target = PY311_GLIBC) -> dict[str, str]:
    return requirements_file.marker_environment(target)


def _names(read: requirements_file.Requirements) -> list[str]:
    return [str(requirement) for requirement in read.requirements]


def test_utf16_with_a_bom_and_crlf_reads_like_utf8(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    text = "# pinned\r\nnumpy==2.3.5\r\nscipy==1.16.3  # inline comment\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert _names(requirements_file.read(path, _env())) == ["numpy==2.3.5", "scipy==1.16.3"]
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    assert _names(requirements_file.read(path, _env())) == ["numpy==2.3.5", "scipy==1.16.3"]


def test_includes_options_hashes_and_markers(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "common.txt").write_text("idna==3.20\n")
    (tmp_path / "requirements.txt").write_text(
        "--index-url https://example.test/simple\n"
        "-c constraints.txt\n"
        "-r base/common.txt\n"
        "uvicorn[standard]==0.53.0\n"
        "numpy==2.3.5 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        'tomli==2.2.1; python_version < "3.12"\n'
        'pywin32==311; sys_platform == "win32"\n'
        "-e .\n"
        "./wheels/local-1.0-py3-none-any.whl\n"
        "local-1.0-py3-none-any.whl\n"
        "not a requirement!\n"
        "demo @ https://example.test/demo-1.0.tar.gz\n"
    )
    read = requirements_file.read(tmp_path / "requirements.txt", _env())
    # Extras are left to pip: the package itself is what the index is asked about.
    assert _names(read) == [
        "idna==3.20",
        "uvicorn[standard]==0.53.0",
        "numpy==2.3.5",
        ('tomli==2.2.1; python_version < "3.12"'),
    ]
    whys = [why for _, why in read.unchecked]
    assert whys[:3] == [
        "editable (-e): not from the index",
        "a local path, not from the index",
        "a local path, not from the index",
    ]
    assert whys[3].startswith("not a requirement pip reads (") and "\n" not in whys[3]
    assert whys[4:] == ["a direct reference (name @ URL), not the index"]
    on_313 = requirements_file.read(
        tmp_path / "requirements.txt", _env(Target("3.13", "manylinux", 36))
    )
    assert "tomli" not in " ".join(_names(on_313))


def test_a_missing_include_or_a_loop_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("-r missing.txt\n")
    with pytest.raises(requirements_file.RequirementsError, match=r"missing.txt: no such file"):
        requirements_file.read(path, _env())
    path.write_text("--requirement=requirements.txt\n")
    with pytest.raises(requirements_file.RequirementsError, match="includes itself"):
        requirements_file.read(path, _env())


def test_the_sample_requirements_are_nineteen_pins() -> None:
    read = requirements_file.read(APP_REQUIREMENTS, _env())
    assert len(read.requirements) == 19 and read.unchecked == ()
    assert all(
        len(r.specifier) == 1 and next(iter(r.specifier)).operator == "=="
        for r in (read.requirements)
    )


# Verdicts ----------------------------------------------------------------------------------------


def _check(tmp_path: Path, base: str, index: FakeIndex | None = None, **args: str) -> WheelCheck:
    checker = WheelChecker(INDEX_URL, index or FakeIndex(sample_files()))
    dockerfile = _dockerfile(tmp_path, f"ARG PYTHON_VERSION=3.11\nFROM {base}\nRUN true\n")
    return checker.check(dockerfile, APP_REQUIREMENTS, args)


def test_on_alpine_one_of_nineteen_has_no_wheel_scikit_learn(tmp_path: Path) -> None:
    check = _check(tmp_path, "python:${PYTHON_VERSION}-alpine")
    assert check.done and check.platform == "musllinux" and check.python_version == "3.11"
    assert len(check.packages) == 19
    assert [(p.name, p.version, p.verdict) for p in check.without_wheel] == [
        ("scikit-learn", "1.8.0", "sdist")
    ]
    wheels = {p.name: p.wheel_file for p in check.packages}
    assert wheels["numpy"] == "numpy-2.3.5-cp311-cp311-musllinux_1_2_x86_64.whl"
    assert wheels["pydantic-core"] == "pydantic_core-2.50.5-cp311-cp311-musllinux_1_1_x86_64.whl"
    assert wheels["fastapi"] == "fastapi-0.164.0-py3-none-any.whl"
    assert {p.chosen for p in check.packages} == {"pinned"}


def test_on_slim_every_package_has_a_wheel(tmp_path: Path) -> None:
    check = _check(tmp_path, "python:${PYTHON_VERSION}-slim")
    assert check.platform == "manylinux" and check.platform_tag == "manylinux_2_36_x86_64"
    assert len(check.packages) == 19 and check.without_wheel == ()
    wheels = {p.name: p.wheel_file for p in check.packages}
    assert wheels["scikit-learn"] == (
        "scikit_learn-1.8.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    )


def test_the_python_version_argument_and_the_final_stage_decide(tmp_path: Path) -> None:
    check = _check(tmp_path, "python:${PYTHON_VERSION}-alpine", PYTHON_VERSION="3.13")
    assert check.python_version == "3.13" and check.base_image == "python:3.13-alpine"
    assert check.packages[8].wheel_file == "numpy-2.3.5-cp313-cp313-musllinux_1_2_x86_64.whl"
    multistage = REPO / "variants" / "multistage" / "Dockerfile"
    checker = WheelChecker(INDEX_URL, FakeIndex(sample_files()))
    check = checker.check(multistage, APP_REQUIREMENTS, {})
    assert check.base_image == "python:3.11-slim" and check.without_wheel == ()


def test_a_stage_named_in_the_final_from_is_followed(tmp_path: Path) -> None:
    dockerfile = _dockerfile(
        tmp_path, "FROM python:3.12-alpine AS deps\nFROM deps AS final\nCOPY . .\n"
    )
    check = WheelChecker(INDEX_URL, FakeIndex(sample_files())).check(
        dockerfile, APP_REQUIREMENTS, {}
    )
    assert check.base_image == "python:3.12-alpine" and check.platform == "musllinux"


@pytest.mark.parametrize(
    ("base", "why"),
    [
        ("debian:bookworm", "debian:bookworm names no Python version"),
        ("scratch", "the final stage is FROM scratch"),
    ],
)
def test_a_base_without_python_is_skipped_with_its_reason(
    tmp_path: Path, base: str, why: str
) -> None:
    index = FakeIndex(sample_files())
    check = _check(tmp_path, base, index)
    assert not check.done and why in (check.skipped_reason or "")
    assert check.packages == () and index.asked == []


def test_no_requirements_file_is_skipped(tmp_path: Path) -> None:
    dockerfile = _dockerfile(tmp_path, "FROM python:3.11-slim\n")
    check = WheelChecker(INDEX_URL, FakeIndex({})).check(dockerfile, None, {})
    assert check.skipped_reason and "no requirements file" in check.skipped_reason


def test_an_index_that_does_not_answer_is_recorded_not_raised(tmp_path: Path) -> None:
    calls: list[str] = []

    def down(url: str) -> Page | None:
        calls.append(url)
        raise IndexUnavailable(f"cannot reach {url}: [Errno 111] Connection refused")

    checker = WheelChecker(INDEX_URL, down)
    dockerfile = _dockerfile(tmp_path, "FROM python:3.11-alpine\n")
    first = checker.check(dockerfile, APP_REQUIREMENTS, {})
    assert first.skipped_reason is not None
    assert first.skipped_reason.startswith("the index did not answer: cannot reach http://")
    # One project asked, not nineteen timeouts; and the next variant does not wait again.
    second = checker.check(dockerfile, APP_REQUIREMENTS, {})
    assert second == first and len(calls) == 1


def test_a_bug_in_the_check_is_recorded_not_raised(tmp_path: Path) -> None:
    def broken(url: str) -> Page | None:
        raise RuntimeError("boom")

    check = WheelChecker(INDEX_URL, broken).check(
        _dockerfile(tmp_path, "FROM python:3.11-slim\n"), APP_REQUIREMENTS, {}
    )
    assert check.skipped_reason == "internal error: RuntimeError: boom"


def test_each_project_is_asked_once_per_run(tmp_path: Path) -> None:
    index = FakeIndex(sample_files())
    checker = WheelChecker(INDEX_URL, index)
    for base in ("python:3.11-slim", "python:3.11-alpine", "python:3.11"):
        checker.check(_dockerfile(tmp_path, f"FROM {base}\n"), APP_REQUIREMENTS, {})
    assert len(index.asked) == 19 == len(set(index.asked))
    assert f"{INDEX_URL}scikit-learn/" in index.asked


def _decide(
    line: str, files: list[str | dict[str, object]] | None, prereleases: bool = False
) -> PackageWheel:
    listed = None if files is None else project_files(json_page(files), "u")
    return decide(Requirement(line), listed, PY311_MUSL, prereleases)


def test_unpinned_and_ranged_take_the_newest_that_satisfies() -> None:
    files: list[str | dict[str, object]] = [
        "demo-1.0-py3-none-any.whl",
        "demo-2.0-cp311-cp311-musllinux_1_2_x86_64.whl",
        "demo-2.0.tar.gz",
        "demo-3.0b1.tar.gz",
        {"filename": "demo-2.5.tar.gz", "yanked": "broken"},
        {"filename": "demo-2.9.tar.gz", "requires-python": ">=3.12"},
    ]
    newest = _decide("demo", files)
    assert (newest.version, newest.chosen, newest.verdict) == ("2.0", "newest", "wheel")
    assert newest.wheel_file == "demo-2.0-cp311-cp311-musllinux_1_2_x86_64.whl"
    assert _decide("demo<2", files).version == "1.0"
    assert _decide("demo>=3.0b1", files).version == "3.0b1"  # a specifier that names one
    pre = _decide("demo", files, True)
    assert (pre.version, pre.verdict) == ("3.0b1", "sdist")
    # A pin takes even a yanked release, as pip does.
    assert _decide("demo==2.5", files).verdict == "sdist"


def test_the_newest_version_wins_over_an_older_wheel() -> None:
    # pip takes the newest version it can install, even from source.
    files: list[str | dict[str, object]] = ["demo-1.0-py3-none-any.whl", "demo-1.1.tar.gz"]
    decided = _decide("demo", files)
    assert (decided.version, decided.verdict, decided.wheel_file) == ("1.1", "sdist", None)


def test_incompatible_and_absent() -> None:
    windows: list[str | dict[str, object]] = ["demo-1.0-cp311-cp311-win_amd64.whl"]
    assert _decide("demo==1.0", windows).verdict == "incompatible"
    assert (_decide("demo", windows).version, _decide("demo", windows).verdict) == (
        "1.0",
        "incompatible",
    )
    assert _decide("demo==9.9", windows).verdict == "absent"
    gone = _decide("demo==1.0", None)
    assert (gone.version, gone.verdict) == ("1.0", "absent")
    assert _decide("demo", None).version is None
    # glibc wheels do not install on musl, and a wheel for another Python does not either.
    other: list[str | dict[str, object]] = [
        "demo-1.0-cp311-cp311-manylinux2014_x86_64.whl",
        "demo-1.0-cp312-cp312-musllinux_1_2_x86_64.whl",
    ]
    assert _decide("demo==1.0", other).verdict == "incompatible"


def test_abi3_wheels_of_an_older_python_count() -> None:
    files: list[str | dict[str, object]] = ["demo-1.0-cp39-abi3-musllinux_1_1_x86_64.whl"]
    assert _decide("demo==1.0", files).verdict == "wheel"


# The index client --------------------------------------------------------------------------------


def test_names_are_normalised_in_the_url() -> None:
    assert project_url("https://pypi.org/simple", "Scikit_Learn") == (
        "https://pypi.org/simple/scikit-learn/"
    )


_HTML = (
    b"<!DOCTYPE html><html><body>"
    b'<a href="../../files/demo-1.0.tar.gz#sha256=aa">demo-1.0.tar.gz</a>'
    b'<a href="https://files.test/demo-2.0-py3-none-any.whl" '
    b'data-requires-python="&gt;=3.12" data-yanked="">demo-2.0-py3-none-any.whl</a>'
    b"</body></html>"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    accepts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).accepts.append(self.headers.get("Accept", ""))
        if self.path == "/simple/numpy/":
            body = json.dumps({"meta": {}, "files": [{"filename": "numpy-2.3.5.tar.gz"}]})
            self._answer(200, "application/vnd.pypi.simple.v1+json", body.encode())
        elif self.path == "/simple/demo/":
            self._answer(200, "text/html; charset=utf-8", _HTML)
        elif self.path == "/simple/broken/":
            self._answer(500, "text/plain", b"oops")
        else:
            self._answer(404, "text/plain", b"not found")

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_the_urllib_client_reads_json_and_html_and_tells_404_from_failure(server: str) -> None:
    page = urllib_fetch(server + "numpy/")
    assert page is not None and project_files(page, "u")[0].filename == "numpy-2.3.5.tar.gz"
    assert _Handler.accepts[-1].startswith("application/vnd.pypi.simple.v1+json")
    page = urllib_fetch(server + "demo/")
    assert page is not None
    files = project_files(page, "u")
    assert [(f.filename, f.requires_python, f.yanked) for f in files] == [
        ("demo-1.0.tar.gz", None, False),
        ("demo-2.0-py3-none-any.whl", ">=3.12", True),
    ]
    assert urllib_fetch(server + "nothing-here/") is None
    with pytest.raises(IndexUnavailable, match="HTTP 500"):
        urllib_fetch(server + "broken/")


def test_the_whole_check_over_http(server: str, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy==2.3.5\ndemo\nmissing==1.0\n")
    check = WheelChecker(server).check(
        _dockerfile(tmp_path, "FROM python:3.11-alpine\n"), tmp_path / "requirements.txt", {}
    )
    assert [(p.name, p.version, p.chosen, p.verdict) for p in check.packages] == [
        ("numpy", "2.3.5", "pinned", "sdist"),
        # 2.0 is yanked (and needs 3.12): pip takes 1.0, from source.
        ("demo", "1.0", "newest", "sdist"),
        ("missing", "1.0", "pinned", "absent"),
    ]


def test_an_index_nobody_listens_on() -> None:
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
    # Bound, then closed: nothing listens there now.
    with pytest.raises(IndexUnavailable, match="cannot reach"):
        urllib_fetch(f"http://127.0.0.1:{port}/simple/numpy/", timeout_seconds=2)


def test_a_file_index_is_read_from_its_folders(tmp_path: Path) -> None:
    (tmp_path / "simple" / "demo").mkdir(parents=True)
    (tmp_path / "simple" / "demo" / "index.html").write_bytes(_HTML)
    page = urllib_fetch((tmp_path / "simple").as_uri() + "/demo/")
    assert page is not None and len(project_files(page, "u")) == 2
    assert urllib_fetch((tmp_path / "simple").as_uri() + "/other/") is None


def test_the_run_options_turn_the_check_off_or_point_it_elsewhere() -> None:
    parser = _parser()
    args = parser.parse_args(["run"])
    assert (args.no_wheel_check, args.wheel_index) == (False, None)
    args = parser.parse_args(["run", "--wheel-index", "https://pypi.org/simple/"])
    assert args.wheel_index == "https://pypi.org/simple/"
    assert parser.parse_args(["run", "--no-wheel-check"]).no_wheel_check
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--no-wheel-check", "--wheel-index", "x"])


def test_the_sample_variants_as_their_manifest_describes_them() -> None:
    checker = WheelChecker(INDEX_URL, FakeIndex(sample_files()))
    found = {
        variant.name: checker.check(variant.dockerfile, variant.requirements, {})
        for variant in manifest.load().variants
    }
    assert {name: [p.name for p in check.without_wheel] for name, check in found.items()} == {
        "full": [],
        "slim": [],
        "alpine": ["scikit-learn"],
        "multistage": [],
        "naive": [],
    }
    assert {name: (check.platform, len(check.packages)) for name, check in found.items()} == {
        "full": ("manylinux", 19),
        "slim": ("manylinux", 19),
        "alpine": ("musllinux", 19),
        "multistage": ("manylinux", 19),
        "naive": ("manylinux", 19),
    }
