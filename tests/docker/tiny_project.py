"""A tiny project of three variants (dependencies before the code, after it, and in an
earlier stage) on idna alone: the docker tests that need real builds of the harness's own
scenarios, kept cheap so that they can run on every lab engine."""

from __future__ import annotations

from pathlib import Path

from tests.faults.project import APP

ORDERED = """FROM python:3.11-slim
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY main.py ./
CMD ["python3", "main.py"]
"""
NAIVE = """FROM python:3.11-slim
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["python3", "main.py"]
"""
STAGED = """FROM python:3.11-slim AS deps
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
COPY requirements.txt ./
RUN pip install --no-cache-dir --target /deps -r requirements.txt
FROM python:3.11-slim
ENV PYTHONPATH=/deps
COPY --from=deps /deps /deps
WORKDIR /app
COPY main.py ./
CMD ["python3", "main.py"]
"""
MANIFEST = """schema = 1
[[variant]]
name = "ordered"
dockerfile = "ordered.Dockerfile"
context = "app"
description = "dependencies before code"
edit_file = "main.py"
size_budget = "400 MB"

[[variant]]
name = "naive"
dockerfile = "naive.Dockerfile"
context = "app"
description = "code before dependencies"
edit_file = "main.py"
size_budget = "400 MB"
deps_rerun_on_edit = true

[[variant]]
name = "staged"
dockerfile = "staged.Dockerfile"
context = "app"
description = "dependencies installed in an earlier stage"
edit_file = "main.py"
size_budget = "400 MB"
"""


def write_tiny_project(tmp_path: Path) -> Path:
    """Write the project into `tmp_path` (made if missing); its manifest is `variants.toml`."""
    (tmp_path / "app").mkdir(parents=True)
    # A real (stdlib) server, so the smoke test has something to ask; idna is the dependency.
    (tmp_path / "app" / "main.py").write_text("import idna  # noqa: F401\n" + APP)
    (tmp_path / "app" / "requirements.txt").write_text("idna==3.20\n")
    # With the Dockerfile outside the context, docker-py sends it as `.dockerfile.<random>`;
    # the engine drops it only when .dockerignore names it AND itself, else `COPY . .`
    # copies a new random file into every build and never hits the cache.
    (tmp_path / "app" / ".dockerignore").write_text(
        "*.Dockerfile\n.dockerfile.*\n.dockerignore\nnotes/\n"
    )
    (tmp_path / "app" / "notes").mkdir()
    (tmp_path / "app" / "notes" / "big.txt").write_text("x" * 100_000)
    (tmp_path / "ordered.Dockerfile").write_text(ORDERED)
    (tmp_path / "naive.Dockerfile").write_text(NAIVE)
    (tmp_path / "staged.Dockerfile").write_text(STAGED)
    (tmp_path / "variants.toml").write_text(MANIFEST)
    return tmp_path
