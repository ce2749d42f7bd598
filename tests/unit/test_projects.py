"""tests/projects without Docker: the set is complete, `bench init` guesses what its manifest
says, and the harness reads each Dockerfile's dependency steps and loopback bind right."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest

from bench import manifest
from bench.cli import main
from bench.context import discover
from bench.context.dockerfile import base_images, instructions
from bench.dependencies import installs_dependencies
from bench.lab import basemap, standins
from bench.run.smoke import loopback_bind
from tests.project_set import LAB_BASES, MANIFEST, ROOT, expectations

PROJECTS = manifest.load(MANIFEST)
EXPECTED = expectations()
VARIANTS = {variant.name: variant for variant in PROJECTS.variants}


def test_every_project_is_measured_and_has_an_expected_outcome() -> None:
    folders = {path for path in ROOT.iterdir() if path.is_dir()}
    assert {variant.context for variant in PROJECTS.variants} == folders
    assert list(EXPECTED) == list(VARIANTS)
    assert all(expected.patterns for expected in EXPECTED.values())


def test_init_finds_every_dockerfile_and_guesses_the_manifests_entries(tmp_path: Path) -> None:
    copy = tmp_path / "projects"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("variants.toml", "expected.toml"))
    assert main(["init", str(copy)]) == 0
    guessed = {
        v.dockerfile.relative_to(copy): v for v in manifest.load(copy / "variants.toml").variants
    }
    ours = {v.dockerfile.relative_to(ROOT): v for v in PROJECTS.variants}
    assert set(guessed) == set(ours)  # `dockerfile` and `Dockerfile.no-libpq` included
    for path, variant in ours.items():
        found = guessed[path]
        assert found.context.relative_to(copy) == variant.context.relative_to(ROOT), path
        assert found.edit_file == variant.edit_file, path


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_dependency_rule_finds_each_projects_install_steps(name: str) -> None:
    variant = VARIANTS[name]
    runs = [
        f"RUN {rest}"
        for keyword, rest in instructions(variant.dockerfile.read_text())
        if keyword == "RUN"
    ]
    found = [run for run in runs if installs_dependencies(run, variant.dependency_override)]
    assert [" ".join(step.split()) for step in found] == list(EXPECTED[name].dependency_steps)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_loopback_bind_is_read_from_the_command(name: str) -> None:
    facts = discover.read_facts(VARIANTS[name].dockerfile.read_text())
    assert loopback_bind(facts.command) == EXPECTED[name].loopback_bind


def test_every_base_is_a_stand_in_once_mapped() -> None:
    mapping = basemap.parse(LAB_BASES, standins.REFERENCES)
    for variant in PROJECTS.variants:
        bases = basemap.resolve(base_images(variant.dockerfile), mapping)
        assert set(bases) <= set(standins.REFERENCES), (variant.name, bases)


def test_the_readme_lists_every_project() -> None:
    readme = (ROOT / "README.md").read_text()
    for folder in sorted(path.name for path in ROOT.iterdir() if path.is_dir()):
        assert f"| `{folder}` |" in readme, folder


def test_the_windows_requirements_stay_utf16_with_crlf() -> None:
    data = (ROOT / "windows-reqs" / "requirements.txt").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert "click>=8.1\r\n" in data.decode("utf-16")
