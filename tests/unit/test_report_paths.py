"""Paths in reports: Dockerfiles relative to the manifest's folder, homes as `~`."""

from __future__ import annotations

import pytest

from bench.report.paths import (
    COMMON_FOLDER,
    MANIFEST_FOLDER,
    file_name,
    shown_dockerfiles,
    tilde_home,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "unix:///root/.local/state/dockerfile-bench/lab/docker.sock",
            "unix://~/.local/state/dockerfile-bench/lab/docker.sock",
        ),
        ("/home/ada/src/bench/variants.toml", "~/src/bench/variants.toml"),
        ("/Users/ada/bench", "~/bench"),
        ("/root", "~"),
        ("see /home/bob/x and /root/y.", "see ~/x and ~/y."),
        ("`/home/ada`", "`~`"),
        # Not home directories: a folder merely named so, or a prefix of a longer name.
        ("/srv/home/ada/x", "/srv/home/ada/x"),
        ("/data/root/x", "/data/root/x"),
        ("/rootfs/x", "/rootfs/x"),
        ("/homer/x", "/homer/x"),
        ("/work/main/variants", "/work/main/variants"),
        ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
    ],
)
def test_tilde_home(text: str, shown: str) -> None:
    assert tilde_home(text) == shown


def test_dockerfiles_relative_to_the_manifests_folder() -> None:
    shown = shown_dockerfiles(
        [
            "/work/main/variants/full/Dockerfile",
            "/work/main/variants/slim/Dockerfile.dev",
            "/work/main/other/x/Dockerfile",
        ],
        "/work/main/variants/variants.toml",
    )
    assert shown.dockerfiles == ("full/Dockerfile", "slim/Dockerfile.dev", "../other/x/Dockerfile")
    assert shown.relative_to == MANIFEST_FOLDER


def test_relative_paths_do_not_depend_on_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir("/")
    shown = shown_dockerfiles(["variants/full/Dockerfile"], "variants/variants.toml")
    assert shown.dockerfiles == ("full/Dockerfile",)
    assert shown_dockerfiles(["full/Dockerfile"], "variants.toml").dockerfiles == (
        "full/Dockerfile",
    )


def test_without_a_manifest_the_common_folder_is_the_base() -> None:
    shown = shown_dockerfiles(
        ["/home/ada/bench/variants/full/Dockerfile", "/home/ada/bench/variants/slim/Dockerfile"],
        None,
    )
    assert shown.dockerfiles == ("full/Dockerfile", "slim/Dockerfile")
    assert shown.relative_to == COMMON_FOLDER
    # One Dockerfile: its own folder is the common one, so it shows as its file name.
    assert shown_dockerfiles(["/root/x/Dockerfile"], None).dockerfiles == ("Dockerfile",)


def test_a_manifest_that_cannot_be_related_falls_back_to_the_common_folder() -> None:
    shown = shown_dockerfiles(
        ["/work/v/full/Dockerfile", "/work/v/slim/Dockerfile"], "variants.toml"
    )
    assert shown.dockerfiles == ("full/Dockerfile", "slim/Dockerfile")
    assert shown.relative_to == COMMON_FOLDER
    mixed = shown_dockerfiles(["/work/v/full/Dockerfile", "slim/Dockerfile"], None)
    assert mixed.dockerfiles == ("Dockerfile", "slim/Dockerfile")


def test_file_name() -> None:
    assert file_name("/work/main/variants/variants.toml") == "variants.toml"
    assert file_name("variants.toml") == "variants.toml"
    assert file_name("/usr/bin/docker") == "docker"
