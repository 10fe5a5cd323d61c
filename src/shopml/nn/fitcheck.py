"""The result of a guarded training run and its fit diagnosis.

The diagnosis is the tabular models' rule (:func:`shopml.stats.fit.diagnose`: underfit when the
training skill over chance is below 0.25, overfit when the relative train–validation gap is ≥ 10%, else
good fit) applied to the validation metric (``mode="max"``, scores in [0, 1] with ``chance`` the score
of a guessing model) at the restored best epoch, with remedies for neural networks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shopml.nn.config import FitConfig
from shopml.nn.guard import GradientDiagnosis, GradientLog

if TYPE_CHECKING:
    from shopml.stats.fit import Diagnosis

__all__ = ["NN_REMEDIES", "FitResult", "fit_diagnosis"]

NN_REMEDIES = {
    "overfit": "more regularisation (dropout, weight decay, data augmentation), more training data, or "
    "earlier stopping",
    "underfit": "more capacity (wider or deeper layers), more epochs, a learning rate from the LR range "
    "test, or less regularisation",
    "good fit": "none needed; more data may still help if the learning curve is still rising",
}


def fit_diagnosis(history: list[dict[str, float]], best_epoch: int, cfg: FitConfig) -> Diagnosis | None:
    """The diagnosis at ``best_epoch`` (1-based), or ``None`` without a training metric or for a metric
    that is minimised (the skill rule needs scores where higher is better)."""
    from shopml.stats.fit import diagnose  # the tabular models' rule

    if cfg.mode != "max" or not history or "train_metric" not in history[0]:
        return None
    row = history[best_epoch - 1]
    curve = [h["valid_metric"] for h in history[:best_epoch]]
    found = diagnose(row["train_metric"], row["valid_metric"], cfg.chance, curve)
    return replace(found, remedy=NN_REMEDIES[found.verdict], metric=cfg.metric_name)


@dataclass
class FitResult:
    """What :func:`shopml.nn.fit` measured: per-epoch history (``train_loss``, ``valid_loss``,
    ``valid_metric``, ``train_metric``, ``lr``, ``seconds``), the gradient log and both diagnoses."""

    config: FitConfig
    history: list[dict[str, float]]
    gradients: GradientLog
    gradient_diagnosis: GradientDiagnosis
    fit_diagnosis: Diagnosis | None
    best_epoch: int
    best_metric: float
    stopped_early: bool
    steps: int
    seconds: float

    def curve(self, key: str) -> list[float]:
        """One history column over epochs (NaN where an epoch lacks it)."""
        return [float(h.get(key, math.nan)) for h in self.history]

    def summary(self) -> str:
        """A few lines: best epoch and metric, early stop, both diagnoses."""
        lines = [
            f"{len(self.history)} epochs, {self.steps} steps in {self.seconds:.1f} s; best epoch "
            f"{self.best_epoch} ({self.config.metric_name} {self.best_metric:.4f})"
            + (", stopped early, best weights restored" if self.stopped_early else ""),
            self.gradient_diagnosis.summary(),
        ]
        if self.fit_diagnosis is not None:
            lines.append(self.fit_diagnosis.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "config": self.config.to_dict(),
            "history": self.history,
            "gradients": self.gradients.to_dict(),
            "gradient_diagnosis": self.gradient_diagnosis.to_dict(),
            "fit_diagnosis": self.fit_diagnosis.to_dict() if self.fit_diagnosis else None,
            "best_epoch": self.best_epoch,
            "best_metric": self.best_metric,
            "stopped_early": self.stopped_early,
            "steps": self.steps,
            "seconds": self.seconds,
        }
