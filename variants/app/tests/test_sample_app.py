"""Unit tests of the sample app (FastAPI test client, model trained into tmp_path)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

SPECIES = {"setosa", "versicolor", "virginica"}


def test_health_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model"] == "iris-random-forest"


def test_predict_setosa(client: TestClient) -> None:
    response = client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]})
    assert response.status_code == 200
    assert response.json() == {"label": "setosa", "class_id": 0}


@pytest.mark.parametrize(
    "features",
    [[6.0, 2.7, 5.1, 1.6], [6.7, 3.0, 5.2, 2.3], [5, 3, 1, 0]],
)
def test_predict_returns_a_species(client: TestClient, features: list[float]) -> None:
    response = client.post("/predict", json={"features": features})
    assert response.status_code == 200
    body = response.json()
    assert body["label"] in SPECIES
    assert body["class_id"] in {0, 1, 2}


@pytest.mark.parametrize(
    "payload",
    [
        {"features": [5.1, 3.5, 1.4]},
        {"features": [5.1, 3.5, 1.4, 0.2, 9.9]},
        {"features": ["a", "b", "c", "d"]},
        {"features": "5.1,3.5,1.4,0.2"},
        {},
    ],
)
def test_predict_rejects_bad_input(client: TestClient, payload: object) -> None:
    response = client.post("/predict", json=payload)
    assert response.status_code == 422


def test_train_is_deterministic(tmp_path: Path, sample_app_train: ModuleType) -> None:
    import joblib

    first = joblib.load(sample_app_train.train(tmp_path / "a.joblib"))
    second = joblib.load(sample_app_train.train(tmp_path / "b.joblib"))
    samples = [[5.9, 3.0, 5.1, 1.8], [6.1, 2.8, 4.7, 1.2], [4.9, 3.1, 1.5, 0.1]]
    assert first["labels"] == second["labels"] == ["setosa", "versicolor", "virginica"]
    assert list(first["model"].predict(samples)) == list(second["model"].predict(samples))
