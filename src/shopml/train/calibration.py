"""Score calibration (fitted on the validation period, after any resampling) and the decision threshold.

Rule for ``method="auto"``: (centred) isotonic regression when the calibration set holds at least
``min_positives_isotonic`` positives (default 1000; isotonic overfits small samples), otherwise sigmoid
(Platt scaling on the logit of the model's score, which also undoes the prior shift of resampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from shopml.errors import ConfigError, InsufficientDataError
from shopml.stats import Costs

__all__ = ["ScoreCalibrator", "ThresholdChoice", "choose_threshold"]

EPS = 1e-7


def _logit(p: np.ndarray, eps: float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.log(q) - np.log(1 - q)


def _centred(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centred isotonic regression (Oron & Flournoy 2017): one knot per constant block, at the block's
    centre. Interpolating between centres removes the near-vertical ramps between blocks, so a score that
    differs in the last float32 digit (ONNX vs Python) cannot jump across a step."""
    starts = np.r_[0, np.flatnonzero(np.diff(v) != 0) + 1]
    ends = np.r_[starts[1:], v.size]
    centres = np.array([(x[a] + x[b - 1]) / 2 for a, b in zip(starts, ends, strict=True)])
    return centres, v[starts]


class ScoreCalibrator(BaseEstimator):
    """Map raw scores to calibrated probabilities.

    >>> rng = np.random.default_rng(0)
    >>> p = rng.random(2000); y = (rng.random(2000) < p ** 2).astype(int)
    >>> ScoreCalibrator().fit(p, y).method_
    'sigmoid'
    """

    def __init__(
        self, method: Literal["auto", "sigmoid", "isotonic"] = "auto", min_positives_isotonic: int = 1000
    ) -> None:
        self.method = method
        self.min_positives_isotonic = min_positives_isotonic

    def fit(
        self, scores: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> ScoreCalibrator:
        """Fit on held-out scores and labels (optionally weighted per row); returns self."""
        y = np.asarray(y)
        positives = int(y.sum())
        if positives == 0 or positives == y.size:
            raise InsufficientDataError(
                f"calibration needs both classes, got {positives} positives in {y.size}"
            )
        if self.method not in ("auto", "sigmoid", "isotonic"):
            raise ConfigError(f"calibration method must be auto, sigmoid or isotonic, got {self.method!r}")
        method = self.method
        if method == "auto":
            method = "isotonic" if positives >= self.min_positives_isotonic else "sigmoid"
        self.method_ = method
        self.n_positives_ = positives
        s = np.asarray(scores, dtype=np.float64)
        if method == "sigmoid":
            lr = LogisticRegression(C=1e6, max_iter=1000)
            lr.fit(_logit(s, EPS).reshape(-1, 1), y, sample_weight=sample_weight)
            self.slope_ = float(lr.coef_[0, 0])
            self.intercept_ = float(lr.intercept_[0])
        else:
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y, sample_weight)
            x, v = _centred(np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float))
            if x.size == 1:
                x, v = np.array([x[0], x[0] + 1.0]), np.array([v[0], v[0]])
            self.x_thresholds_, self.y_thresholds_ = x, v
        return self

    def transform(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (float64)."""
        s = np.asarray(scores, dtype=np.float64)
        if self.method_ == "sigmoid":
            z = self.slope_ * _logit(s, EPS) + self.intercept_
            return 1.0 / (1.0 + np.exp(-z))
        return np.interp(s, self.x_thresholds_, self.y_thresholds_)

    predict = transform


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold (score >= threshold means positive) and the objective's value there."""

    threshold: float
    objective: str
    value: float


def choose_threshold(
    scores: np.ndarray,
    y: np.ndarray,
    objective: Literal["f1", "cost"] = "f1",
    *,
    costs: Costs = Costs(),
    fn_costs: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
) -> ThresholdChoice:
    """Threshold maximising F1, or minimising the total cost under ``costs`` (a false alarm costs
    ``costs.false_positive``, a missed positive ``fn_costs[i]``, its per-row miss cost from
    :meth:`Costs.miss_costs`; default ``costs.false_negative``), over every distinct score; rows count
    ``sample_weight`` times (default once). ``value`` is the total cost at the chosen threshold.

    >>> choose_threshold(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])).threshold
    0.35
    """
    s = np.asarray(scores, dtype=np.float64)
    yy = np.asarray(y, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    w = np.ones_like(s) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[order]
    s, yy = s[order], yy[order]
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    tp = np.cumsum(w * yy)[ends]
    fp = np.cumsum(w * (1 - yy))[ends]
    if objective == "f1":
        f1 = 2 * tp / (tp + fp + (w * yy).sum())
        k = int(np.argmax(f1))
        return ThresholdChoice(float(s[ends[k]]), "max_f1", float(f1[k]))
    if objective != "cost":
        raise ConfigError(f"threshold objective must be 'f1' or 'cost', got {objective!r}")
    miss = costs.miss_costs(s.size) if fn_costs is None else np.asarray(fn_costs, dtype=np.float64)[order]
    c = w * miss
    missed = (yy * c).sum() - np.cumsum(yy * c)[ends]
    cost = missed + fp * costs.false_positive
    k = int(np.argmin(cost))
    nothing = float((yy * c).sum())
    if nothing < cost[k]:  # flagging nothing is cheapest: threshold just above every score
        return ThresholdChoice(float(min(1.0, np.nextafter(s[0], np.inf))), "min_cost", nothing)
    return ThresholdChoice(float(s[ends[k]]), "min_cost", float(cost[k]))
