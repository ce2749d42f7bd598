"""Sample app: serve the iris classifier trained by train.py over HTTP.

GET  /health   -> {"status": "ok", "model": <name>}
POST /predict  {"features": [f1, f2, f3, f4]} -> {"label": <species>, "class_id": <int>}

The model is read with joblib from MODEL_PATH (default: model.joblib next to
this file). It is loaded at startup and cached per path, so tests can train
into a temporary directory and point MODEL_PATH at it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import joblib
from fastapi import FastAPI
from pydantic import BaseModel, Field, FiniteFloat

DEFAULT_MODEL_PATH = Path(__file__).parent / "model.joblib"


def model_path() -> Path:
    return Path(os.environ.get("MODEL_PATH") or DEFAULT_MODEL_PATH)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    bundle: dict[str, Any] = joblib.load(path)
    return bundle


def get_model() -> dict[str, Any]:
    return _load(model_path())


class PredictRequest(BaseModel):
    features: Annotated[list[FiniteFloat], Field(min_length=4, max_length=4)]


class PredictResponse(BaseModel):
    label: str
    class_id: int


class HealthResponse(BaseModel):
    status: str
    model: str


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    get_model()  # fail at startup, not at the first request, if the model is missing
    yield


app = FastAPI(title="iris sample app", lifespan=lifespan)


@app.get("/health")
def health() -> HealthResponse:
    return HealthResponse(status="ok", model=str(get_model()["name"]))


@app.post("/predict")
def predict(request: PredictRequest) -> PredictResponse:
    bundle = get_model()
    class_id = int(bundle["model"].predict([request.features])[0])
    return PredictResponse(label=bundle["labels"][class_id], class_id=class_id)
