"""Train the sample model: a small random forest on the iris data set.

The data set ships inside scikit-learn (no download), and the fit is seeded,
so every build trains the same model in well under a second.

Usage: python train.py [OUTPUT_PATH]   (default: model.joblib next to this file)
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

MODEL_NAME = "iris-random-forest"
DEFAULT_OUTPUT = Path(__file__).parent / "model.joblib"


def train(output: Path = DEFAULT_OUTPUT) -> Path:
    """Fit the classifier and save it, with its label names, to ``output``."""
    iris = load_iris()
    model = RandomForestClassifier(n_estimators=50, max_depth=4, random_state=42)
    model.fit(iris.data, iris.target)
    bundle = {
        "name": MODEL_NAME,
        "model": model,
        "labels": [str(name) for name in iris.target_names],
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle, output)
    return output


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    path = train(output)
    print(f"saved {MODEL_NAME} to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
