"""The lab's configs and command lines, without starting anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.lab import config
from bench.lab.paths import LabPaths


@pytest.fixture
def paths(tmp_path: Path) -> LabPaths:
    return LabPaths(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")


def test_daemon_config_keeps_containers_off_every_network(paths: LabPaths) -> None:
    daemon = json.loads(config.render_daemon_config(paths))
    assert daemon["bridge"] == "none"
    assert daemon["iptables"] is False
    assert daemon["registry-mirrors"] == ["http://127.0.0.1:5000"]


def test_daemon_uses_only_paths_under_the_lab_directory(paths: LabPaths) -> None:
    daemon = config.daemon_config(paths)
    for key in ("data-root", "exec-root", "pidfile"):
        assert Path(str(daemon[key])).is_relative_to(paths.lab_dir), key
    assert daemon["hosts"] == [f"unix://{paths.lab_dir}/docker.sock"]


def test_dockerd_reads_only_the_lab_config(paths: LabPaths) -> None:
    assert config.dockerd_command(paths, "/usr/sbin/dockerd") == [
        "/usr/sbin/dockerd",
        "--config-file",
        str(paths.daemon_config),
    ]


def test_registry_listens_on_loopback_with_storage_in_the_lab(paths: LabPaths) -> None:
    text = config.registry_config(paths)
    assert "addr: 127.0.0.1:5000" in text
    assert f"rootdirectory: {paths.registry_storage}" in text


def test_wheelhouse_server_binds_loopback(paths: LabPaths) -> None:
    command = config.wheelhouse_server_command(paths)
    assert command[command.index("--bind") + 1] == "127.0.0.1"
    assert command[command.index("--directory") + 1] == str(paths.wheelhouse)


def test_mirror_from_deb822_skips_commented_snapshot_and_security(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "debian.sources").write_text(
        "Types: deb\n"
        "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
        "URIs: http://mirror.example/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n\n"
        "Types: deb\n"
        "URIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\n"
    )
    found = config.debian_mirror_from_apt(tmp_path / "missing.list", tmp_path / "d")
    assert found == "http://mirror.example/debian"


def test_mirror_from_one_line_sources_with_options(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n"
    )
    assert config.debian_mirror_from_apt(sources, tmp_path / "none") == (
        "http://one.example/debian"
    )


def test_mirror_ignores_third_party_repositories(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("deb https://packages.example.com/apt cloud-sdk main\n")
    with pytest.raises(BenchError, match="--debian-mirror"):
        config.debian_mirror_from_apt(sources, tmp_path / "none")


def test_mirror_defaults_when_apt_has_no_sources(tmp_path: Path) -> None:
    assert config.debian_mirror_from_apt(tmp_path / "a", tmp_path / "b") == (
        config.DEFAULT_DEBIAN_MIRROR
    )
