"""The lab's PyPI caching proxy: its upstream from pip's config, its command and environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.lab import pypiproxy
from bench.lab.paths import PYPI_PROXY_PORT, PYPI_PROXY_URL, LabPaths
from bench.lab.standins import STANDIN_DIR

# What `pip config list` printed on this project's machines (no index-url: PyPI).
HOST_LISTING = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/opt/wheels'
"""


@pytest.fixture
def paths(tmp_path: Path) -> LabPaths:
    return LabPaths(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")


def test_pip_config_listing_is_parsed_with_quotes_removed() -> None:
    settings = pypiproxy.parse_pip_config_list(HOST_LISTING)
    assert settings["global.find-links"] == "/opt/wheels"
    assert settings[":env:.default-timeout"] == "180"


def test_no_index_url_means_pypi_and_pips_cert_is_kept() -> None:
    upstream = pypiproxy.upstream_from_config(pypiproxy.parse_pip_config_list(HOST_LISTING))
    assert upstream.index_url == "https://pypi.org/simple/"
    assert upstream.origin == "default"
    assert upstream.ca_bundle == "/etc/ssl/certs/ca-certificates.crt"


def test_the_environment_beats_the_install_section_beats_global() -> None:
    settings = {
        "global.index-url": "https://global.example/simple",
        "install.index-url": "https://install.example/simple/",
    }
    assert pypiproxy.upstream_from_config(settings).index_url == "https://install.example/simple/"
    settings[":env:.index-url"] = "http://env.example/simple"
    upstream = pypiproxy.upstream_from_config(settings)
    assert upstream.index_url == "http://env.example/simple/"  # a trailing slash added
    assert (upstream.origin, upstream.key) == ("pip config", ":env:.index-url")


def test_a_file_index_is_refused_in_one_line() -> None:
    with pytest.raises(BenchError, match=r"not an http\(s\) URL") as caught:
        pypiproxy.upstream_from_config({"global.index-url": "file:///opt/pypi/simple"})
    assert "\n" not in caught.value.message


def test_command_serves_proxpi_on_loopback_with_one_threaded_worker() -> None:
    command = pypiproxy.command()
    assert command[1:3] == ["-m", pypiproxy.PROCESS_NAME]
    assert command[command.index("--bind") + 1] == f"127.0.0.1:{PYPI_PROXY_PORT}"
    assert command[command.index("--workers") + 1] == "1"
    assert command[-1] == "proxpi.server:app"
    assert int(command[command.index("--timeout") + 1]) > pypiproxy.DOWNLOAD_TIMEOUT_SECONDS


def test_environment_sets_upstream_cache_and_a_long_download_wait(paths: LabPaths) -> None:
    upstream = pypiproxy.Upstream("https://pypi.org/simple/", "default", ca_bundle="/ca.pem")
    env = pypiproxy.environment(paths, upstream, base={"PATH": "/usr/bin"})
    assert env["PROXPI_INDEX_URL"] == "https://pypi.org/simple/"
    assert Path(env["PROXPI_CACHE_DIR"]).is_relative_to(paths.cache_dir)
    # proxpi's default (0.9 s) redirects to the upstream file, which containers cannot reach.
    assert float(env["PROXPI_DOWNLOAD_TIMEOUT"]) >= 300
    assert env["REQUESTS_CA_BUNDLE"] == "/ca.pem"
    assert env["PATH"] == "/usr/bin"


def test_standins_pip_conf_points_at_the_proxy() -> None:
    shipped = (STANDIN_DIR / "pip.conf").read_text()
    assert shipped == pypiproxy.pip_conf()
    assert f"index-url = {PYPI_PROXY_URL}" in shipped
    assert "trusted-host = 127.0.0.1" in shipped


@pytest.mark.parametrize(
    "dockerfile", ["python-slim.Dockerfile", "python-full.Dockerfile", "python-alpine.Dockerfile"]
)
def test_every_python_standin_carries_the_pip_conf_and_says_so(dockerfile: str) -> None:
    text = (STANDIN_DIR / dockerfile).read_text()
    assert "COPY pip.conf /etc/pip.conf" in text
    label = next(line for line in text.splitlines() if "org.dockerfile-bench.pip-conf" in line)
    assert PYPI_PROXY_URL in label
