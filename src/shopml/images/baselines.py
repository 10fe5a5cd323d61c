"""Baselines on raw pixels, trained in the same run on the same split as the CNN: multinomial logistic
regression and a multi-layer perceptron (256-128, ReLU, Adam, early stopping), both scikit-learn."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["BASELINES", "fit_baselines"]

BASELINES = ("logistic regression", "MLP 256-128")


def _pixels(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1) / 255.0


def _models(seed: int, quick: bool) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    return {
        "logistic regression": LogisticRegression(C=0.1, max_iter=60 if quick else 200, tol=1e-3),
        "MLP 256-128": MLPClassifier(
            hidden_layer_sizes=(256, 128),
            alpha=1e-4,
            batch_size=256,
            learning_rate_init=1e-3,
            max_iter=10 if quick else 40,
            early_stopping=True,
            n_iter_no_change=4,
            random_state=seed,
        ),
    }


def fit_baselines(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    *,
    n_classes: int,
    seed: int = 0,
    quick: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    """Fit each baseline; per name the test probabilities ``[N, n_classes]`` and the fit seconds."""
    xtr, xte = _pixels(train_x), _pixels(test_x)
    out: dict[str, dict[str, Any]] = {}
    for name, model in _models(seed, quick).items():
        say(f"baseline: {name}")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning at the iteration cap is expected
            model.fit(xtr, train_y)
        proba = np.zeros((len(xte), n_classes), dtype=np.float64)
        proba[:, model.classes_] = model.predict_proba(xte)
        out[name] = {"proba": proba, "seconds": time.perf_counter() - start}
    return out
