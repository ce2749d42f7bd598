"""A package index's file list for a project: PEP 691 JSON, or PEP 503 HTML from an index
that serves only that, over urllib with a timeout. Nothing here decides what pip picks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import canonicalize_name

PYPI_SIMPLE_URL = "https://pypi.org/simple/"
TIMEOUT_SECONDS = 10.0
_JSON = "application/vnd.pypi.simple.v1+json"
# JSON first, HTML from an index that has only that (PEP 691's content negotiation).
ACCEPT = f"{_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


class IndexUnavailable(Exception):
    """The index did not answer usefully (network, HTTP error, unreadable page)."""


@dataclass(frozen=True)
class Page:
    """An answer: its content type and body; None for a project the index does not have."""

    content_type: str
    body: bytes


# A fetch: the project page's URL -> its Page, None for 404; IndexUnavailable when the index
# cannot be asked. Tests inject one; `urllib_fetch` is the real one.
Fetch = Callable[[str], Page | None]


@dataclass(frozen=True)
class IndexFile:
    """One file of a project on the index."""

    filename: str
    requires_python: str | None = None
    yanked: bool = False


def project_url(index_url: str, name: str) -> str:
    """The project's page under an index (PEP 503: the normalised name, a trailing slash)."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    return urljoin(base, f"{canonicalize_name(name)}/")


def urllib_fetch(url: str, timeout_seconds: float = TIMEOUT_SECONDS) -> Page | None:
    """GET a project page; a file:// index is read from its directory's index.html."""
    if urlsplit(url).scheme == "file":
        path = Path(unquote(urlsplit(url).path))
        page = path / "index.html" if path.is_dir() or url.endswith("/") else path
        try:
            return Page("text/html", page.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as error:
            raise IndexUnavailable(f"{page}: {error.strerror or error}") from None
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as answer:
            return Page(answer.headers.get_content_type(), answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise IndexUnavailable(f"HTTP {error.code} {error.reason} for {url}") from None
    except urllib.error.URLError as error:
        raise IndexUnavailable(f"cannot reach {url}: {error.reason}") from None
    except TimeoutError:
        raise IndexUnavailable(f"no answer from {url} within {timeout_seconds:g} s") from None
    except OSError as error:  # a connection reset mid-answer
        raise IndexUnavailable(f"{url}: {error.strerror or error}") from None


def project_files(page: Page, url: str) -> tuple[IndexFile, ...]:
    """The files a project page lists, whichever of the two formats it is in."""
    if page.content_type == _JSON or page.body.lstrip().startswith(b"{"):
        return _from_json(page.body, url)
    return _from_html(page.body, url)


def _from_json(body: bytes, url: str) -> tuple[IndexFile, ...]:
    try:
        data = json.loads(body)
        files = data["files"]
        return tuple(
            IndexFile(
                str(entry["filename"]),
                entry.get("requires-python") or None,
                bool(entry.get("yanked", False)),  # true, or the reason why
            )
            for entry in files
        )
    except (ValueError, KeyError, TypeError) as error:
        raise IndexUnavailable(f"{url}: not a PEP 691 project page ({error})") from None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[IndexFile] = []
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._current = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._current is None:
            return
        href = self._current.get("href") or ""
        # PEP 503: the file name is the URL's last path component (the text should match).
        name = unquote(urlsplit(href).path.rsplit("/", 1)[-1]) or "".join(self._text).strip()
        if name:
            self.files.append(
                IndexFile(
                    name,
                    self._current.get("data-requires-python") or None,
                    "data-yanked" in self._current,
                )
            )
        self._current = None


def _from_html(body: bytes, url: str) -> tuple[IndexFile, ...]:
    parser = _Anchors()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except AssertionError as error:  # html.parser's way of giving up
        raise IndexUnavailable(f"{url}: not a PEP 503 project page ({error})") from None
    return tuple(parser.files)
