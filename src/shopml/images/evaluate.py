"""What a product-photo classifier is measured by, beyond the multiclass kind's metric family:
per-class precision and recall, the confusion matrix, calibration (expected calibration error and the
reliability curve) and the coverage–precision curve of "auto-assign when confident, else send to
review", with the confidence threshold that reaches a target precision.

>>> y = np.array([0, 1, 1, 0]); p = np.array([[.9, .1], [.2, .8], [.6, .4], [.7, .3]])
>>> confusion(y, p, 2).tolist()
[[2, 0], [1, 1]]
>>> c = coverage_precision(y, p)
>>> [round(v, 2) for v in c["precision"]]
[1.0, 1.0, 1.0, 0.75]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["at_threshold", "confusion", "coverage_precision", "ece", "per_class", "review_threshold"]


def confusion(y: np.ndarray, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``[true class, predicted class]``."""
    pred = np.argmax(proba, axis=1)
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y), pred), 1)
    return m


def per_class(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> list[dict[str, Any]]:
    """Precision, recall and F1 per class, with its support (true rows)."""
    m = confusion(y, proba, len(classes))
    tp = np.diag(m).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(m.sum(0) > 0, tp / m.sum(0), np.nan)
        rec = np.where(m.sum(1) > 0, tp / m.sum(1), np.nan)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    return [
        {"class": c, "precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
         "support": int(m[i].sum())}
        for i, c in enumerate(classes)
    ]  # fmt: skip


def ece(y: np.ndarray, proba: np.ndarray, bins: int = 15) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error of the top-class confidence over ``bins`` equal-width bins (the
    row-weighted mean |accuracy − confidence|), and the reliability curve (one row per non-empty bin)."""
    conf = np.max(proba, axis=1)
    hit = (np.argmax(proba, axis=1) == np.asarray(y)).astype(np.float64)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    curve, total = [], 0.0
    for b in range(bins):
        sel = which == b
        if not sel.any():
            continue
        acc, c = float(hit[sel].mean()), float(conf[sel].mean())
        total += sel.sum() / len(conf) * abs(acc - c)
        curve.append({"confidence": c, "accuracy": acc, "count": int(sel.sum())})
    return float(total), curve


def coverage_precision(y: np.ndarray, proba: np.ndarray) -> dict[str, list[float]]:
    """For every confidence threshold (the distinct top-class confidences, high to low): the share of
    photos auto-assigned (confidence ≥ threshold) and the precision among them."""
    conf = np.max(proba, axis=1)
    hit = (np.argmax(proba, axis=1) == np.asarray(y)).astype(np.float64)
    order = np.argsort(-conf, kind="stable")
    c, h = conf[order], hit[order]
    cum = np.cumsum(h) / np.arange(1, len(h) + 1)
    last = np.r_[c[1:] != c[:-1], True]  # ties: a threshold admits every photo at that confidence
    n = np.flatnonzero(last) + 1
    return {
        "threshold": c[last].tolist(),
        "coverage": (n / len(c)).tolist(),
        "precision": cum[last].tolist(),
    }


def review_threshold(y: np.ndarray, proba: np.ndarray, target: float = 0.98) -> dict[str, float]:
    """The lowest confidence threshold whose auto-assigned precision reaches ``target`` (largest
    coverage); NaN threshold when none does."""
    curve = coverage_precision(y, proba)
    ok = [i for i, p in enumerate(curve["precision"]) if p >= target]
    if not ok:
        return {"target": target, "threshold": float("nan"), "coverage": 0.0, "precision": float("nan")}
    i = max(ok, key=lambda k: curve["coverage"][k])
    return {
        "target": target,
        "threshold": curve["threshold"][i],
        "coverage": curve["coverage"][i],
        "precision": curve["precision"][i],
    }


def at_threshold(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """Coverage and precision of auto-assignment at a given confidence threshold."""
    conf = np.max(proba, axis=1)
    sel = conf >= threshold
    hit = np.argmax(proba, axis=1) == np.asarray(y)
    return {
        "threshold": float(threshold),
        "coverage": float(sel.mean()),
        "precision": float(hit[sel].mean()) if sel.any() else float("nan"),
    }
