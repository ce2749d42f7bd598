"""The lab's PyPI caching proxy (proxpi under gunicorn): its upstream, command and environment.

Builds cannot reach PyPI over TLS from inside a container, and real Dockerfiles declare no
`PIP_FIND_LINKS`/`PIP_NO_INDEX` build arguments, so the stand-in Python bases point pip at
this proxy (their /etc/pip.conf). It runs on the host, where the host's index is reachable,
and serves wheels and sdists alike, fetched on first request and cached on disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from bench.errors import BenchError
from bench.lab.paths import PYPI_PROXY_PORT, PYPI_PROXY_URL, LabPaths

DEFAULT_INDEX_URL = "https://pypi.org/simple/"
# What the pid file's process must be: `python -m gunicorn ...` names gunicorn in argv[2].
PROCESS_NAME = "gunicorn"
# proxpi answers with a redirect to the upstream file when a download takes longer than
# this (its default is 0.9 s); a container cannot follow that redirect (no TLS to PyPI),
# so the proxy waits for the whole file instead. torch's 900 MB wheel fits in it.
DOWNLOAD_TIMEOUT_SECONDS = 900
CACHE_SIZE_BYTES = 20 * 1000**3

# Where an index URL may come from in pip's configuration, strongest first: the environment
# (PIP_INDEX_URL), then the `install` section (what `pip install` in a build would read),
# then `global`. pip itself has already merged its files (global, user, site) per key.
_INDEX_KEYS = (":env:.index-url", "install.index-url", "global.index-url")
_CERT_KEYS = (":env:.cert", "install.cert", "global.cert")

Origin = Literal["pip config", "default"]


@dataclass(frozen=True)
class Upstream:
    """The index the proxy fetches from: the one the host's pip uses."""

    index_url: str
    origin: Origin
    key: str = ""  # the pip config key it came from, e.g. global.index-url
    ca_bundle: str | None = None  # pip's `cert`, so the proxy trusts what pip trusts


def parse_pip_config_list(listing: str) -> dict[str, str]:
    """`pip config list` output (`key='value'` per line) as a dict."""
    found: dict[str, str] = {}
    for line in listing.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key.strip()] = value
    return found


def upstream_from_config(settings: Mapping[str, str]) -> Upstream:
    """The upstream index named by pip's merged settings, else PyPI; one line if unusable."""
    cert = next((settings[key] for key in _CERT_KEYS if settings.get(key)), None)
    for key in _INDEX_KEYS:
        url = settings.get(key, "").strip()
        if not url:
            continue
        if urlsplit(url).scheme not in ("http", "https"):
            # proxpi fetches with requests, which has no file:// (nor any other) scheme.
            raise BenchError(
                f"the host's pip index ({key} = {url}) is not an http(s) URL, which the lab's "
                "PyPI proxy cannot fetch from; set PIP_INDEX_URL to an http(s) index for `lab up`"
            )
        return Upstream(url if url.endswith("/") else url + "/", "pip config", key, cert)
    return Upstream(DEFAULT_INDEX_URL, "default", ca_bundle=cert)


def host_upstream() -> Upstream:
    """Ask the host's pip (this interpreter's) for its configuration."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    # A pip that cannot read its config has no index configured for us to follow.
    return upstream_from_config(
        parse_pip_config_list(result.stdout if result.returncode == 0 else "")
    )


def installed() -> bool:
    """Whether proxpi and gunicorn import in this interpreter (the `lab` extra)."""
    from importlib.util import find_spec

    return find_spec("proxpi") is not None and find_spec("gunicorn") is not None


def command() -> list[str]:
    """gunicorn serving proxpi on loopback: one worker, so one in-memory index cache and
    one downloader per file; threads, so parallel builds do not queue behind a download."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{PYPI_PROXY_PORT}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "16",
        # A worker busy with a long download must not be killed as hung.
        "--timeout",
        str(DOWNLOAD_TIMEOUT_SECONDS + 60),
        # gunicorn's control socket would be made in ~/.gunicorn, outside the lab's files.
        "--no-control-socket",
        "proxpi.server:app",
    ]


def environment(
    paths: LabPaths, upstream: Upstream, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The proxy's environment: proxpi is configured only through it."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "PROXPI_INDEX_URL": upstream.index_url,
            "PROXPI_CACHE_DIR": str(paths.pypi_proxy_cache),
            "PROXPI_CACHE_SIZE": str(CACHE_SIZE_BYTES),
            "PROXPI_DOWNLOAD_TIMEOUT": str(DOWNLOAD_TIMEOUT_SECONDS),
        }
    )
    if upstream.ca_bundle:
        env["REQUESTS_CA_BUNDLE"] = upstream.ca_bundle
    return env


def health_url() -> str:
    """proxpi's own health endpoint: answers without asking the upstream."""
    return f"http://127.0.0.1:{PYPI_PROXY_PORT}/health"


def pip_conf() -> str:
    """The /etc/pip.conf the stand-in Python bases carry (bench/lab/standins/pip.conf)."""
    return (
        "# dockerfile-bench lab: pip reaches PyPI through the lab's caching proxy on the host\n"
        "# (builds use the host network). Docker Hub's python images have no such file.\n"
        "[global]\n"
        f"index-url = {PYPI_PROXY_URL}\n"
        "trusted-host = 127.0.0.1\n"
    )
