"""Fixtures for the sample app's tests.

The app's modules are loaded from their files under unique module names, so
they neither need sys.path changes nor clash with the repo's own test modules.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

with warnings.catch_warnings():
    # Starlette >= 1.2 prefers the `httpx2` client and warns once, at import, when only
    # `httpx` is installed. That concerns the test environment, not the app: install
    # httpx2 to avoid it; this narrow filter keeps plain httpx usable meanwhile.
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient` is deprecated",
        category=UserWarning,
    )
    from fastapi.testclient import TestClient

APP_DIR = Path(__file__).resolve().parent.parent


def _load_module(name: str, filename: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, APP_DIR / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sample_app_train() -> ModuleType:
    return _load_module("sample_app_train", "train.py")


@pytest.fixture(scope="session")
def sample_app_main() -> ModuleType:
    return _load_module("sample_app_main", "main.py")


@pytest.fixture
def model_file(tmp_path: Path, sample_app_train: ModuleType) -> Path:
    path: Path = sample_app_train.train(tmp_path / "model.joblib")
    return path


@pytest.fixture
def client(
    model_file: Path, sample_app_main: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("MODEL_PATH", str(model_file))
    with TestClient(sample_app_main.app) as test_client:  # runs the startup (model load)
        yield test_client
