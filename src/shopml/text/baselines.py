"""The baselines fitted in the same run: TF-IDF (word and character n-grams) + logistic regression, and
the frozen pretrained encoder's mean-pooled embeddings + a linear (logistic-regression) head."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["fit_frozen_linear", "fit_tfidf", "init_head"]


def fit_tfidf(train_texts: list[str], y: np.ndarray, seed: int = 0) -> tuple[Any, float]:
    """A fitted TF-IDF + logistic-regression pipeline (``predict_proba`` over texts) and its fit seconds."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    start = time.perf_counter()
    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
    )
    model = make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000, random_state=seed))
    model.fit(train_texts, y)
    return model, time.perf_counter() - start


def fit_frozen_linear(train_emb: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[Any, float]:
    """A logistic-regression head on frozen embeddings and its fit seconds. The embeddings are used as
    they are (no standardisation): a few of MiniLM's pooled dimensions are nearly constant, and dividing
    by their spread would blow their weights up when the probe becomes the teacher's first head."""
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    model = LogisticRegression(C=10.0, max_iter=3000, random_state=seed)
    model.fit(train_emb, y)
    return model, time.perf_counter() - start


def init_head(head: Any, probe: Any, n_classes: int) -> None:
    """Copy a :func:`fit_frozen_linear` probe into a ``torch.nn.Linear`` head over the same embeddings;
    classes the probe never saw get zero weights and a very low bias."""
    import torch

    w, b = probe.coef_, probe.intercept_
    if len(probe.classes_) == 2:  # one logit for the second class: the first gets 0
        w, b = np.vstack([np.zeros_like(w), w]), np.array([0.0, b[0]])
    weight = np.zeros((n_classes, w.shape[1]))
    bias = np.full(n_classes, -10.0)
    rows = np.asarray(probe.classes_, dtype=np.int64)
    weight[rows], bias[rows] = w, b
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=head.weight.dtype))
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))
