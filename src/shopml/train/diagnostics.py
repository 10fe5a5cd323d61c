"""Fit diagnostics: validation curve over boosting rounds, learning curve over training size, diagnosis.

The diagnosis rule (scores are PR-AUC; ``skill`` rescales a score so chance level, the positive rate
``π``, is 0 and perfect is 1: ``skill = (score − π) / (1 − π)``):

1. **underfit** if the training skill is below ``underfit_skill`` (0.25): the model cannot fit even the
   data it was trained on (checked first: near chance level, train–validation gaps are noise);
2. otherwise **overfit** if the relative train–validation gap ``(train − valid) / train ≥ overfit_gap``
   (0.10), or the validation curve ends ``≥ decline`` (5%) below its best round;
3. otherwise **good fit**.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

__all__ = ["Diagnosis", "diagnose", "learning_curve", "rounds_curve"]

REMEDIES = {
    "overfit": "more regularisation (lower max_depth, raise min_child_weight / reg_lambda, subsample), "
    "more training data, or earlier stopping",
    "underfit": "more capacity (deeper trees, more boosting rounds, a nonlinear model) or more informative "
    "features",
    "good fit": "none needed; more data may still help if the learning curve is still rising",
}


@dataclass(frozen=True)
class Diagnosis:
    """The verdict, the numbers behind it, the rule applied and the suggested remedy."""

    verdict: str
    train_score: float
    valid_score: float
    relative_gap: float
    train_skill: float
    curve_decline: float
    rule: str
    remedy: str
    metric: str = "PR-AUC"  # what train_score / valid_score measure

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)

    def summary(self) -> str:
        """One line: verdict, numbers, remedy."""
        return (
            f"{self.verdict}: train {self.metric} {self.train_score:.3f}, validation {self.valid_score:.3f} "
            f"(gap {self.relative_gap:.1%}, train skill {self.train_skill:.2f}); {self.rule}. "
            f"Remedy: {self.remedy}"
        )


def diagnose(
    train_score: float,
    valid_score: float,
    base_rate: float,
    valid_curve: Sequence[float] | None = None,
    *,
    overfit_gap: float = 0.10,
    underfit_skill: float = 0.25,
    decline: float = 0.05,
) -> Diagnosis:
    """Apply the module's rule to train/validation PR-AUC (``base_rate`` = training positive rate).

    >>> diagnose(0.99, 0.40, 0.05).verdict
    'overfit'
    >>> diagnose(0.08, 0.07, 0.05).verdict
    'underfit'
    >>> diagnose(0.62, 0.58, 0.05).verdict
    'good fit'
    """
    gap = (train_score - valid_score) / train_score if train_score > 0 else 0.0
    skill = (train_score - base_rate) / (1 - base_rate) if base_rate < 1 else 0.0
    fall = 0.0
    if valid_curve is not None and len(valid_curve) > 0:
        best = float(np.max(valid_curve))
        fall = (best - float(valid_curve[-1])) / best if best > 0 else 0.0
    if skill < underfit_skill:
        verdict, rule = "underfit", f"training skill {skill:.2f} < {underfit_skill} (barely above chance)"
    elif gap >= overfit_gap:
        verdict, rule = "overfit", f"relative train–validation gap {gap:.1%} ≥ {overfit_gap:.0%}"
    elif fall >= decline:
        verdict, rule = "overfit", f"validation score fell {fall:.1%} ≥ {decline:.0%} from its best round"
    else:
        verdict = "good fit"
        rule = f"gap {gap:.1%} < {overfit_gap:.0%} and training skill {skill:.2f} ≥ {underfit_skill}"
    return Diagnosis(
        verdict,
        float(train_score),
        float(valid_score),
        float(gap),
        float(skill),
        float(fall),
        rule,
        REMEDIES[verdict],
    )


def rounds_curve(model: Any) -> dict[str, list[float]]:
    """Validation curve over boosting rounds from a fitted XGBoost model's eval history (PR-AUC of the
    training period and of the validation period after each round)."""
    hist = model.evals_result()
    keys = list(hist)
    metric = next(iter(hist[keys[-1]]))
    train = hist[keys[0]][metric] if len(keys) > 1 else []
    return {"train": [float(v) for v in train], "valid": [float(v) for v in hist[keys[-1]][metric]]}


def learning_curve(
    fit_score: Callable[[np.ndarray], tuple[float, float]],
    n_train: int,
    sizes: Sequence[float],
) -> dict[str, list[float]]:
    """Train and validation score over training size. ``fit_score(idx)`` fits on training rows ``idx``
    (the most recent ``size`` share: more data means reaching further back) and returns both scores."""
    out: dict[str, list[float]] = {"sizes": [], "train": [], "valid": []}
    for frac in sorted(sizes):
        k = max(2, round(n_train * frac))
        tr, va = fit_score(np.arange(n_train - k, n_train))
        out["sizes"].append(k)
        out["train"].append(float(tr))
        out["valid"].append(float(va))
    return out


def pr_auc(y: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Average precision (rows counted ``sample_weight`` times), NaN when ``y`` has a single class."""
    if not 0 < np.sum(y) < len(y):
        return float("nan")
    return float(average_precision_score(y, scores, sample_weight=sample_weight))
