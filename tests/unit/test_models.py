"""The rules that live with the records: what a rebuild re-ran, and what installs dependencies."""

from __future__ import annotations

import pytest

from bench.dependencies import DependencyOverride
from bench.models import (
    SCENARIO_LABELS,
    SCENARIOS,
    BuildStep,
    Sample,
    VariantResult,
    counted_steps,
    rerun_steps,
)


def _step(index: int, instruction: str, cached: bool) -> BuildStep:
    return BuildStep(index, instruction, 0.5, cached)


@pytest.mark.parametrize(
    ("instruction", "installs"),
    [
        ("RUN pip install --no-cache-dir -r requirements.txt", True),
        ("RUN python3 -m pip install -r requirements.txt", True),
        ("RUN pip3 install fastapi uvicorn", True),
        ("RUN poetry install --no-root", True),
        ("RUN uv sync --frozen", True),
        ("RUN uv pip install -r requirements.txt", True),
        ("RUN npm ci", True),
        ("RUN apt-get update && pip install -r requirements.txt", True),
        # The project itself on top of its dependencies: no dependency is reinstalled.
        ("RUN pip install --no-deps .", False),
        ("RUN pip install --no-cache-dir --no-deps -e .", False),
        ("RUN pip install --no-deps . && pip install gunicorn", True),
        ("RUN python train.py", False),
        ("RUN echo 'pip is great'", False),
        ("COPY requirements.txt ./", False),
        ("CMD pip install x", False),  # a CMD runs later, not in the build
    ],
)
def test_what_installs_dependencies(instruction: str, installs: bool) -> None:
    assert _step(1, instruction, False).installs_dependencies() is installs


def test_rerun_steps_leave_out_from_and_the_args_before_it() -> None:
    # Older results recorded FROM and a global ARG as not cached: they do no work.
    steps = (
        _step(1, "ARG PYTHON_VERSION=3.11", False),
        _step(2, "FROM python:3.11-slim", False),
        _step(3, "ARG PIP_NO_INDEX", True),
        _step(4, "COPY requirements.txt ./", True),
        _step(5, "RUN pip install -r requirements.txt", False),
        _step(6, "FROM python:3.11-slim", False),
        _step(7, "COPY . .", False),
    )
    assert [s.index for s in counted_steps(steps)] == [3, 4, 5, 7]
    assert [s.index for s in rerun_steps(steps)] == [5, 7]
    sample = Sample("naive", "edit", 1, True, 1.0, steps=steps)
    assert sample.rerun_steps == rerun_steps(steps)
    assert sample.counted_steps == counted_steps(steps)
    assert [s.index for s in sample.reinstalled_dependencies()] == [5]


def test_the_manifests_override_corrects_the_rule() -> None:
    make = _step(1, "RUN make deps", False)
    own = _step(2, "RUN pip install --no-index --find-links /wheels -r requirements.txt", False)
    assert not make.installs_dependencies() and own.installs_dependencies()
    override = DependencyOverride(installs=("make deps",), not_installs=("--find-links /wheels",))
    assert make.installs_dependencies(override)
    assert not own.installs_dependencies(override)
    # not_installs wins when both match.
    both = DependencyOverride(installs=("make",), not_installs=("make deps",))
    assert not make.installs_dependencies(both)
    sample = Sample("x", "edit", 1, True, 1.0, steps=(_step(0, "FROM x", False), make, own))
    result = VariantResult("x", "d", "Dockerfile", "ok", samples=(sample,))
    assert [s.index for s in result.reinstalled_dependencies(sample)] == [2]
    corrected = VariantResult(
        "x", "d", "Dockerfile", "ok", samples=(sample,), dependency_override=override
    )
    assert [s.index for s in corrected.reinstalled_dependencies(sample)] == [1]


def test_every_scenario_has_one_label() -> None:
    assert tuple(SCENARIO_LABELS) == SCENARIOS


def test_an_unknown_scenario_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'warm'"):
        Sample("slim", "warm", 1, True, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("instruction", "installs"),
    [
        ("RUN pdm install --prod", True),
        ("RUN pdm sync", True),
        ("RUN pipenv install --system --deploy", True),
        ("RUN pnpm install --frozen-lockfile", True),
        ("RUN yarn", True),
        ("RUN bundle install", True),
        ("RUN go mod download", True),
        ("RUN cargo fetch", True),
        ("RUN poetry install --only-root", False),  # the project itself
        ("RUN pip install -e .", False),  # the project, after its dependencies
        ("RUN pip install --no-cache-dir --target /deps -r requirements.txt", True),
        ("RUN pip install --requirement=requirements.txt", True),
        ("RUN pip install -i http://127.0.0.1:3141/simple/ flask", True),
        ("RUN pip install dist/app-1.0-py3-none-any.whl", False),
        ("RUN PIP_NO_CACHE_DIR=1 pip install gunicorn", True),
        ("RUN /opt/venv/bin/pip install -r requirements.txt", True),
        ("RUN python3.12 -m pip install uvicorn", True),
        ("RUN go build ./...", False),
    ],
)
def test_more_package_managers_and_the_project_itself(instruction: str, installs: bool) -> None:
    assert _step(1, instruction, False).installs_dependencies() is installs
