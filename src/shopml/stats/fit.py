"""The fit diagnosis every trained model states (tabular and neural): underfit, overfit or good fit,
with the numbers behind it, the rule applied and a remedy.

The rule (``skill`` rescales a score so chance level — for PR-AUC the positive rate ``π`` — is 0 and
perfect is 1: ``skill = (score − chance) / (1 − chance)``):

1. **underfit** if the training skill is below ``underfit_skill`` (0.25): the model cannot fit even the
   data it was trained on (checked first: near chance level, train–validation gaps are noise);
2. otherwise **overfit** if the relative train–validation gap ``(train − valid) / train ≥ overfit_gap``
   (0.10), or the validation curve ends ``≥ decline`` (5%) below its best point;
3. otherwise **good fit**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["REMEDIES", "Diagnosis", "diagnose"]

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
