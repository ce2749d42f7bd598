"""Base images named by FROM lines, with global ARG defaults and build args."""

from __future__ import annotations

from pathlib import Path

from bench.context.dockerfile import base_images, final_base

REPO = Path(__file__).resolve().parents[2]


def test_variants_bases_follow_the_python_version_argument() -> None:
    multistage = REPO / "variants" / "multistage" / "Dockerfile"
    assert base_images(multistage) == ["python:3.11", "python:3.11-slim"]
    assert base_images(multistage, {"PYTHON_VERSION": "3.13"}) == [
        "python:3.13",
        "python:3.13-slim",
    ]


def test_stages_scratch_and_untagged_images(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=debian:bookworm\n"
        "FROM ${BASE} AS gather\n"
        "ARG IGNORED=after-from\n"
        "FROM gather AS again\n"
        "FROM scratch\n"
        "FROM --platform=linux/amd64 busybox\n"
        "FROM registry.example:5000/team/app:1 \\\n  AS last\n"
    )
    assert base_images(dockerfile) == [
        "debian:bookworm",
        "busybox:latest",
        "registry.example:5000/team/app:1",
    ]


def test_the_final_base_follows_stage_names(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG PY=3.12\n"
        "FROM python:${PY}-alpine AS deps\n"
        "FROM python:${PY} AS build\n"
        "FROM deps AS final\n"
    )
    assert final_base(dockerfile) == "python:3.12-alpine"
    assert final_base(dockerfile, {"PY": "3.13"}) == "python:3.13-alpine"
    assert final_base(REPO / "variants" / "multistage" / "Dockerfile") == "python:3.11-slim"
    dockerfile.write_text("FROM golang:1.23 AS build\nFROM scratch\n")
    assert final_base(dockerfile) is None
    dockerfile.write_text("FROM debian\n")
    assert final_base(dockerfile) == "debian:latest"
