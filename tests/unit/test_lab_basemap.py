"""`--lab-base NAME=STAND-IN`: parsing, the Dockerfile rewrite, the missing-base line, reports."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench import manifest
from bench.context.dockerfile import base_images, rewrite_bases
from bench.errors import BenchError
from bench.lab import basemap
from bench.lab.standins import REFERENCES
from bench.report.latest import render_markdown
from bench.run.measure import RunOptions, measure_variant
from tests.unit.fakes import FakeWorkbench, fake_harness
from tests.unit.sample_results import sample_run

DIGEST = "sha256:" + "ab" * 32


def test_mappings_are_parsed_normalised_and_sorted() -> None:
    parsed = basemap.parse(
        ["python:3.12-slim=python:3.11-slim", " debian = debian:bookworm-slim "], REFERENCES
    )
    assert parsed == (
        ("debian:latest", "debian:bookworm-slim"),
        ("python:3.12-slim", "python:3.11-slim"),
    )


@pytest.mark.parametrize("value", ["python:3.12-slim", "=python:3.11-slim", "python:3.12-slim="])
def test_a_malformed_mapping_is_one_line(value: str) -> None:
    with pytest.raises(BenchError, match="expected NAME=STAND-IN"):
        basemap.parse([value], REFERENCES)


def test_a_target_that_is_not_a_standin_names_those_there_are() -> None:
    with pytest.raises(BenchError, match=r"python:3\.12 is not one of the lab's stand-ins") as e:
        basemap.parse(["python:3.12-slim=python:3.12"], REFERENCES)
    assert "python:3.11-slim" in e.value.message


def test_missing_base_message_is_one_line_with_the_standins_and_the_option() -> None:
    message = basemap.missing_base_message("python:3.12-slim", REFERENCES)
    assert "\n" not in message
    assert ", ".join(REFERENCES) in message
    assert message.endswith("--lab-base python:3.12-slim=python:3.11-slim")


@pytest.mark.parametrize(
    ("reference", "suggested"),
    [
        ("python:3.14-slim-trixie", "python:3.11-slim"),
        ("python:3.12", "python:3.11"),
        ("python:3.12-alpine3.20", "python:3.11-alpine"),
        (f"python:3.11-slim@{DIGEST}", "python:3.11-slim"),
        ("debian:sid", "debian:bookworm"),
        ("node:20-slim", "debian:bookworm"),
    ],
)
def test_the_suggestion_is_the_standin_most_alike(reference: str, suggested: str) -> None:
    assert basemap.suggestion(reference, REFERENCES) == suggested


DOCKERFILE = f"""\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12
FROM python:${{PYTHON_VERSION}}-slim AS build
RUN pip install build
FROM --platform=linux/amd64 python:3.11-slim@{DIGEST}
COPY --from=build /x /x
FROM build AS again
"""


def test_rewrite_maps_from_lines_after_arg_substitution_and_keeps_the_rest() -> None:
    mapping = {
        "python:3.12-slim": "python:3.11-slim",
        f"python:3.11-slim@{DIGEST}": "python:3.11-slim",
    }
    rewritten = rewrite_bases(DOCKERFILE, mapping)
    assert "FROM python:3.11-slim AS build\n" in rewritten
    assert "FROM --platform=linux/amd64 python:3.11-slim\n" in rewritten
    assert "FROM build AS again\n" in rewritten  # a stage, not a base
    assert rewritten.count("\n") == DOCKERFILE.count("\n")
    # A build argument decides the base as it does for base_images.
    assert (
        rewrite_bases(DOCKERFILE, mapping, {"PYTHON_VERSION": "3.13"}).count("python:3.13-slim")
        == 0
    )  # ${PYTHON_VERSION} kept: python:3.13-slim is not mapped
    assert rewrite_bases(DOCKERFILE, {}) == DOCKERFILE


def test_resolve_and_the_recorded_option_round_trip() -> None:
    lab_bases = (("python:3.12-slim", "python:3.11-slim"),)
    assert basemap.resolve(["python:3.12-slim", "debian:bookworm"], lab_bases) == [
        "python:3.11-slim",
        "debian:bookworm",
    ]
    options = {basemap.OPTION: basemap.recorded(lab_bases)}
    assert basemap.stand_in_for("python:3.12-slim", options) == "python:3.11-slim"
    assert basemap.stand_in_for("python:3.11-slim", options) is None
    assert basemap.stand_in_for("python:3.12-slim", {}) is None


def test_a_mapped_base_is_built_from_the_standin_and_reported_by_its_own_name() -> None:
    variant = manifest.load().select(["slim"])[0]
    original = variant.dockerfile.read_text()
    options = RunOptions(
        repeat=1,
        scenarios=("cold",),
        build_args={"PYTHON_VERSION": "3.12"},
        smoke=False,
        lab_bases=(("python:3.12-slim", "python:3.11-slim"),),
    )
    bench = FakeWorkbench(missing_bases={"python:3.12-slim"})
    harness, _ = fake_harness(bench, options)
    result = measure_variant(harness, variant)
    assert result.status == "ok", result.reason
    assert result.image is not None and result.image.base_image == "python:3.12-slim"
    cold = next(s for s in result.samples if s.scenario == "cold")
    assert any(step.instruction == "FROM python:3.11-slim" for step in cold.steps)
    assert variant.dockerfile.read_text() == original  # the user's file is never changed
    assert base_images(variant.dockerfile, options.build_args) == ["python:3.12-slim"]


def test_a_dockerfile_outside_its_context_is_rewritten_beside_the_scratch_copy(
    tmp_path: Path,
) -> None:
    dockerfile = tmp_path / "user" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text("FROM python:3.12-slim\n")
    scratch = tmp_path / "dockerfile-bench-run" / "app"
    scratch.mkdir(parents=True)
    lab_bases = (("python:3.12-slim", "python:3.11-slim"),)
    built = basemap.rewrite_in_scratch(dockerfile, scratch, {}, lab_bases)
    assert built == scratch.parent / "lab-base.Dockerfile"
    assert built.read_text() == "FROM python:3.11-slim\n"
    assert dockerfile.read_text() == "FROM python:3.12-slim\n"  # the user's, unchanged
    # Inside the scratch copy: rewritten there. Nothing mapped: the file as it is.
    copied = scratch / "Dockerfile"
    copied.write_text("FROM python:3.12-slim\n")
    assert basemap.rewrite_in_scratch(copied, scratch, {}, lab_bases) == copied
    assert copied.read_text() == "FROM python:3.11-slim\n"
    assert basemap.rewrite_in_scratch(dockerfile, scratch, {}, ()) == dockerfile


def test_the_size_table_shows_the_standin_beside_a_mapped_base() -> None:
    run = sample_run()
    variant = run.variants[0]
    assert variant.image is not None
    mapped = replace(variant, image=replace(variant.image, base_image="python:3.12-slim"))
    options = (*run.provenance.options, (basemap.OPTION, "python:3.12-slim=python:3.11-slim"))
    run = replace(
        run,
        variants=(mapped, *run.variants[1:]),
        provenance=replace(run.provenance, options=options),
    )
    assert "`python:3.12-slim` (lab: `python:3.11-slim`)" in render_markdown([run])
