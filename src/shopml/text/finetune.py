"""Fine-tuning and distillation through the guarded loop of :mod:`shopml.nn`.

The teacher is the pretrained encoder with a linear head on its mean-pooled last hidden state
(:func:`shopml.text.export.pooled_classifier`), trained end to end with cross-entropy and early stopping
on validation accuracy. The student (fewer layers) learns from the teacher's soft labels: the KL
divergence between their distributions at ``temperature`` T (scaled by T², as Hinton et al.), mixed with
the cross-entropy on the true labels by ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from shopml.text.config import TextConfig

__all__ = ["TokenBatches", "distill", "fine_tune", "logits", "split_valid"]


class TokenBatches:
    """Re-iterable mini-batches ``(input_ids, attention_mask, labels, soft)`` as torch tensors, each cut
    to its longest text (``soft``: teacher logits or None); shuffled each pass when ``shuffle``."""

    def __init__(
        self,
        ids: np.ndarray,
        mask: np.ndarray,
        y: np.ndarray,
        batch: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        soft: np.ndarray | None = None,
    ) -> None:
        import torch

        self.ids, self.mask = torch.from_numpy(ids), torch.from_numpy(mask)
        self.y = torch.as_tensor(y, dtype=torch.long)
        self.soft = None if soft is None else torch.from_numpy(np.asarray(soft, dtype=np.float32))
        self.batch, self.shuffle = batch, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.y) / self.batch)

    def __iter__(self) -> Iterator[tuple[Any, Any, Any, Any]]:
        import torch

        n = len(self.y)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for i in range(0, n, self.batch):
            idx = order[i : i + self.batch]
            mask = self.mask[idx]
            width = max(int(mask.sum(1).max()), 1)
            soft = None if self.soft is None else self.soft[idx]
            yield self.ids[idx, :width], mask[:, :width], self.y[idx], soft


def split_valid(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified random (training, validation) row indices."""
    rng = np.random.default_rng([seed, 7])
    valid = [
        rng.permutation(np.flatnonzero(y == c))[: max(1, round(share * (y == c).sum()))] for c in np.unique(y)
    ]
    v = np.sort(np.concatenate(valid))
    return np.setdiff1d(np.arange(y.size), v), v


def _logits(model: Any, ids: Any, mask: Any) -> Any:
    _, emb = model(ids, mask)
    return model.head(emb)


def _accuracy(model: Any, data: Any) -> float:
    hit = n = 0
    for ids, mask, y, _ in data:
        hit += int((_logits(model, ids, mask).argmax(1) == y).sum())
        n += len(y)
    return hit / max(1, n)


def logits(model: Any, ids: np.ndarray, mask: np.ndarray, batch: int = 64) -> np.ndarray:
    """The head's logits ``[N, C]`` (no gradients, evaluation mode)."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for b in TokenBatches(ids, mask, np.zeros(len(ids)), batch):
            out.append(_logits(model, b[0], b[1]).numpy())
    return np.concatenate(out).astype(np.float32)


def _fit_config(cfg: TextConfig, n_classes: int, *, epochs: int, lr: float) -> Any:
    """The guarded loop's settings; the one-cycle warm-up is a tenth of the steps (``make_scheduler``
    keeps it at least one and a half steps, so a loop window of any size trains)."""
    from shopml.nn import FitConfig

    return FitConfig(
        epochs=epochs,
        lr=lr,
        weight_decay=cfg.weight_decay,
        schedule="one_cycle",
        warmup=0.1,
        clip_norm=1.0,
        grad_every=5,
        patience=cfg.patience,
        chance=1.0 / n_classes,
        metric_name="accuracy",
        seed=cfg.seed,
        threads=cfg.threads,
        progress=not cfg.quick,
        valid_loss=False,
    )


def fine_tune(model: Any, train: TokenBatches, valid: TokenBatches, n_classes: int, cfg: TextConfig) -> Any:
    """Fine-tune ``model`` (encoder + head) in place; returns the :class:`shopml.nn.FitResult`."""
    import torch

    from shopml.nn import fit

    def loss_fn(m: Any, batch: Any) -> Any:
        ids, mask, y, _ = batch
        return torch.nn.functional.cross_entropy(_logits(m, ids, mask), y)

    config = _fit_config(cfg, n_classes, epochs=cfg.epochs, lr=cfg.lr)
    return fit(model, loss_fn, train, valid, _accuracy, config)


def distill(student: Any, train: TokenBatches, valid: TokenBatches, n_classes: int, cfg: TextConfig) -> Any:
    """Train ``student`` on ``train``'s teacher logits (``soft``) and labels; returns the FitResult."""
    import torch.nn.functional as F

    from shopml.nn import fit

    t, alpha = cfg.temperature, cfg.alpha

    def loss_fn(m: Any, batch: Any) -> Any:
        ids, mask, y, soft = batch
        z = _logits(m, ids, mask)
        hard = F.cross_entropy(z, y)
        if soft is None or not m.training:
            return hard
        kl = F.kl_div(F.log_softmax(z / t, dim=1), F.softmax(soft / t, dim=1), reduction="batchmean")
        return alpha * kl * t * t + (1 - alpha) * hard

    config = _fit_config(cfg, n_classes, epochs=cfg.student_epochs, lr=cfg.student_lr)
    return fit(student, loss_fn, train, valid, _accuracy, config)
