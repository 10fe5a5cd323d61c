"""Learning-rate schedules (one-cycle, cosine, constant) stepped per batch, and the LR range test.

The range test (Smith 2017, as in fastai's and Lightning's LR finders) trains from a copy of the model
with the learning rate rising exponentially from ``min_lr`` to ``max_lr``, records the smoothed loss, and
stops once the loss exceeds ``diverge`` (4×) its best. The suggestion is the learning rate of the
steepest fall of the smoothed loss, or a tenth of the minimum's when the curve is too short to have one;
the model and optimiser state are put back afterwards.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shopml.errors import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = ["SCHEDULES", "LRRangeTest", "lr_range_test", "make_scheduler"]

SCHEDULES = ("one_cycle", "cosine", "constant")


def make_scheduler(
    optimizer: torch.optim.Optimizer, name: str, total_steps: int, max_lr: float, warmup: float = 0.25
) -> Any:
    """A scheduler stepped once per batch: ``one_cycle`` (warm-up over ``warmup`` of the steps to
    ``max_lr``, at least 1.5 steps; cosine annealing to ``max_lr/1e4``; below 3 steps a constant rate),
    ``cosine`` (from ``max_lr`` to 0) or ``constant``."""
    import torch

    if name not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {list(SCHEDULES)}, got {name!r}")
    total = max(1, int(total_steps))
    steps = total + 1
    if name == "one_cycle" and steps >= 4:
        # the warm-up ends at least 1.5 steps after the first and before the last (PyTorch divides by
        # the phases' lengths: a warm-up ending on step 0 divides by zero, e.g. 9 steps at 0.1)
        pct = min(max(warmup, 1.5 / steps), (steps - 2.5) / steps)
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=max_lr, total_steps=steps, pct_start=pct, anneal_strategy="cos"
        )
    if name == "one_cycle":  # too few steps for a cycle: the peak rate throughout
        name = "constant"
    if name == "cosine":
        for g in optimizer.param_groups:
            g["lr"] = max_lr
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    for g in optimizer.param_groups:
        g["lr"] = max_lr
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


@dataclass(frozen=True)
class LRRangeTest:
    """Learning rates tried, the smoothed loss at each, and the suggested learning rate."""

    lrs: list[float]
    losses: list[float]
    suggestion: float
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


def lr_range_test(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
    batches: Iterable[Any],
    optimizer: Callable[[Any], torch.optim.Optimizer],
    *,
    min_lr: float = 1e-6,
    max_lr: float = 1.0,
    steps: int = 100,
    smooth: float = 0.9,
    diverge: float = 4.0,
) -> LRRangeTest:
    """Run the range test on ``steps`` batches (the iterable is cycled) without changing ``model``.

    ``optimizer`` builds the optimiser from the model's parameters (its learning rate is overwritten).
    """
    import torch

    if not 0 < min_lr < max_lr:
        raise ConfigError(f"lr_range_test needs 0 < min_lr < max_lr, got {min_lr} and {max_lr}")
    if steps < 2:
        raise ConfigError(f"lr_range_test needs steps >= 2, got {steps}")
    saved = copy.deepcopy(model.state_dict())
    was_training = model.training
    opt = optimizer(model.parameters())
    factor = (max_lr / min_lr) ** (1 / (steps - 1))
    lrs: list[float] = []
    losses: list[float] = []
    avg, best = 0.0, math.inf
    model.train()
    try:
        batch_iter = iter(batches)
        for i in range(steps):
            try:
                batch = next(batch_iter)
            except StopIteration:
                batch_iter = iter(batches)
                batch = next(batch_iter)
            lr = min_lr * factor**i
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            value = float(loss.detach())
            if not math.isfinite(value):
                break
            loss.backward()
            opt.step()
            avg = smooth * avg + (1 - smooth) * value
            smoothed = avg / (1 - smooth ** (i + 1))
            lrs.append(lr)
            losses.append(smoothed)
            best = min(best, smoothed)
            if smoothed > diverge * best:
                break
    finally:
        with torch.no_grad():
            model.load_state_dict(saved)
        model.train(was_training)
    return _suggest(lrs, losses)


def _suggest(lrs: list[float], losses: list[float]) -> LRRangeTest:
    if len(losses) < 3:
        lr = lrs[0] if lrs else math.nan
        return LRRangeTest(lrs, losses, lr, "too few finite steps: the smallest learning rate tried")
    loss = np.asarray(losses)
    lo = int(np.argmin(loss))
    if lo >= 2:
        slope = np.gradient(loss[: lo + 1], np.log10(np.asarray(lrs[: lo + 1])))
        k = int(np.argmin(slope))
        return LRRangeTest(lrs, losses, float(lrs[k]), "steepest fall of the smoothed loss")
    return LRRangeTest(lrs, losses, float(lrs[lo]) / 10, "a tenth of the learning rate at the minimum loss")
