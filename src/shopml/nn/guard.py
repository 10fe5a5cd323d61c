"""Gradient guards: per-layer gradient norms, the stop on a non-finite value, and the diagnosis of
vanishing or exploding gradients stated with its numbers.

A *layer* is the module that owns a parameter (``encoder.0.weight`` → ``encoder.0``), in the order the
model registers them: the first layer is the one nearest the input in a feed-forward stack. The
diagnosis compares median gradient norms over the recorded steps:

* **vanishing** if the first layer's median norm is below ``vanish_ratio`` (1e-3) times the last layer's
  (the signal reaching the early layers is three orders of magnitude weaker), or a layer's median is
  below ``tiny`` (1e-8, nothing arrives at all);
* **exploding** if the largest recorded total norm is above ``explode_norm`` (1e3), or the total norm grew
  more than ``explode_growth`` (100×) from the first recorded step to the largest;
* otherwise **healthy**.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shopml.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["GradientDiagnosis", "GradientLog", "NonFiniteError", "diagnose_gradients", "layer_norms"]


class NonFiniteError(ModelError):
    """A loss, gradient or weight became NaN or infinite; the run stopped (names the layer and step)."""

    kind = "non_finite"

    def __init__(self, message: str, *, layer: str, step: int) -> None:
        super().__init__(message)
        self.layer = layer
        self.step = step


def layer_of(param_name: str) -> str:
    """The owning module of a parameter name (``"fc.weight"`` → ``"fc"``; a bare name stays)."""
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


def layer_norms(named: Iterable[tuple[str, torch.Tensor]], *, grads: bool = True) -> dict[str, float]:
    """The L2 norm per layer of the parameters' gradients (``grads``) or values, in registration order
    (parameters without a gradient are left out)."""
    sq: dict[str, float] = {}
    for name, p in named:
        t = p.grad if grads else p
        if t is None:
            continue
        v = float(t.detach().double().pow(2).sum())
        key = layer_of(name)
        sq[key] = sq.get(key, 0.0) + v
    return {k: math.sqrt(v) if math.isfinite(v) else v for k, v in sq.items()}


def first_nonfinite(named: Iterable[tuple[str, torch.Tensor]], *, grads: bool = True) -> str | None:
    """The first parameter (by registration order) whose gradient (or value) holds a NaN or inf."""
    import torch

    for name, p in named:
        t = p.grad if grads else p
        if t is not None and not bool(torch.isfinite(t).all()):
            return name
    return None


@dataclass
class GradientLog:
    """Per-layer gradient norms (before clipping) recorded every ``every`` optimiser steps, with the total
    norm and whether clipping acted at that step."""

    every: int
    steps: list[int] = field(default_factory=list)
    layers: dict[str, list[float]] = field(default_factory=dict)
    total: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)

    def record(self, step: int, norms: dict[str, float], total: float, clipped: bool) -> None:
        """Append one step's norms (a layer first seen later is padded with NaN before)."""
        for name in norms:
            self.layers.setdefault(name, [float("nan")] * len(self.steps))
        for name, values in self.layers.items():
            values.append(float(norms.get(name, float("nan"))))
        self.steps.append(int(step))
        self.total.append(float(total))
        self.clipped.append(bool(clipped))

    def medians(self) -> dict[str, float]:
        """Median norm per layer over the recorded steps (NaN for a layer that never had a gradient)."""
        out = {}
        for k, v in self.layers.items():
            a = np.asarray(v, dtype=np.float64)
            a = a[np.isfinite(a)]
            out[k] = float(np.median(a)) if a.size else float("nan")
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


@dataclass(frozen=True)
class GradientDiagnosis:
    """``healthy`` / ``vanishing`` / ``exploding``, with the numbers and the rule behind it."""

    verdict: str
    first_layer: str
    last_layer: str
    first_norm: float
    last_norm: float
    ratio: float
    max_total: float
    growth: float
    clipped_share: float
    rule: str
    remedy: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)

    def summary(self) -> str:
        """One line: verdict, numbers, rule, remedy."""
        return (
            f"gradients {self.verdict}: first layer '{self.first_layer}' median norm {self.first_norm:.3g}, "
            f"last layer '{self.last_layer}' {self.last_norm:.3g} (ratio {self.ratio:.3g}); largest total "
            f"norm {self.max_total:.3g} (growth {self.growth:.3g}×, clipped at {self.clipped_share:.0%} of "
            f"recorded steps); {self.rule}. Remedy: {self.remedy}"
        )


REMEDIES = {
    "vanishing": "shorten the path the gradient travels: batch norm, residual connections, gated cells "
    "(GRU/LSTM) instead of a plain tanh RNN, ReLU-family activations, a better initialisation",
    "exploding": "clip the gradient norm, lower the learning rate (run the LR range test), normalise "
    "inputs and use a smaller initialisation",
    "healthy": "none needed",
}


def diagnose_gradients(
    log: GradientLog,
    *,
    vanish_ratio: float = 1e-3,
    tiny: float = 1e-8,
    explode_norm: float = 1e3,
    explode_growth: float = 100.0,
) -> GradientDiagnosis:
    """Apply the module's rule to a :class:`GradientLog`.

    >>> log = GradientLog(every=1)
    >>> log.record(1, {"in": 1e-7, "out": 0.5}, 0.5, False)
    >>> diagnose_gradients(log).verdict
    'vanishing'
    """
    med = log.medians()
    names = [k for k, v in med.items() if np.isfinite(v)]
    if not names:
        return GradientDiagnosis(
            "healthy", "", "", math.nan, math.nan, math.nan, math.nan, math.nan, 0.0,
            "no gradient norms were recorded", REMEDIES["healthy"],
        )  # fmt: skip
    first, last = names[0], names[-1]
    f, la = med[first], med[last]
    ratio = f / la if la > 0 else math.inf
    tot = np.asarray(log.total, dtype=np.float64)
    finite = tot[np.isfinite(tot)]
    max_total = float(finite.max()) if finite.size else math.inf
    start = float(finite[0]) if finite.size else math.nan
    growth = max_total / start if start > 0 else math.inf
    clipped = float(np.mean(log.clipped)) if log.clipped else 0.0
    smallest = min(names, key=lambda k: med[k])
    if max_total > explode_norm or not finite.size:
        verdict, rule = "exploding", f"largest total norm {max_total:.3g} > {explode_norm:g}"
    elif growth > explode_growth:
        verdict, rule = "exploding", f"total norm grew {growth:.3g}× > {explode_growth:g}× during the run"
    elif len(names) > 1 and ratio < vanish_ratio:
        verdict, rule = "vanishing", f"first/last layer norm ratio {ratio:.3g} < {vanish_ratio:g}"
    elif med[smallest] < tiny:
        verdict, rule = "vanishing", f"layer '{smallest}' median norm {med[smallest]:.3g} < {tiny:g}"
    else:
        verdict = "healthy"
        rule = (
            f"first/last ratio {ratio:.3g} ≥ {vanish_ratio:g}, largest total norm {max_total:.3g} ≤ "
            f"{explode_norm:g}, growth {growth:.3g}× ≤ {explode_growth:g}×"
        )
    return GradientDiagnosis(
        verdict, first, last, f, la, ratio, max_total, growth, clipped, rule, REMEDIES[verdict]
    )
