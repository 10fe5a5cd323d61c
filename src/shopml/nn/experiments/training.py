"""Exploding gradients, depth and overfitting, each run through the guarded loop (:func:`shopml.nn.fit`).

* **Exploding**: a tanh RNN with a large recurrent initialisation (weights × ``scale``) and plain SGD at a
  high learning rate, trained with and without gradient-norm clipping (Pascanu, Mikolov & Bengio 2013):
  the loss per step of each, and the step where the unclipped run diverges (the loop's non-finite stop
  names it, with the layer).
* **Depth**: a deep plain CNN, the same with batch norm, and with residual connections: the median
  gradient norm per layer (first/last ratio) and the training curves.
* **Overfitting**: a small, noisily labelled training set and a wide net, trained plainly, with dropout,
  with augmentation and with early stopping: the train–validation gap of each and its fit diagnosis.

The data are small synthetic images (a bright blob in one of four quadrants over noise), so the
experiments need nothing from disk and run in seconds with ``quick``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from shopml.nn.config import FitConfig
from shopml.nn.guard import NonFiniteError
from shopml.nn.trainer import fit

__all__ = ["blob_images", "run_depth", "run_exploding", "run_overfitting"]

EXPLODE_SCALE = 6.0  # recurrent weights × 6: the spectral radius far above 1
EXPLODE_LR = 0.5


def blob_images(
    n: int, size: int, g: torch.Generator, noise: float = 1.0, flip: float = 0.0
) -> tuple[Any, Any]:
    """``[n, 1, size, size]`` noise images with a bright blob in quadrant ``y`` (0-3); a share ``flip``
    of the labels replaced by a random quadrant."""
    y = torch.randint(0, 4, (n,), generator=g)
    x = torch.randn(n, 1, size, size, generator=g) * noise
    h = size // 2
    r = torch.randint(0, h - 2, (n, 2), generator=g)
    for i in range(n):
        top, left = (int(y[i]) // 2) * h + int(r[i, 0]), (int(y[i]) % 2) * h + int(r[i, 1])
        x[i, 0, top : top + 3, left : left + 3] += 2.0
    if flip:
        swap = torch.rand(n, generator=g) < flip
        y = torch.where(swap, torch.randint(0, 4, (n,), generator=g), y)
    return x, y


def _batches(x: Any, y: Any, batch: int) -> list[tuple[Any, Any]]:
    return [(x[i : i + batch], y[i : i + batch]) for i in range(0, len(y), batch)]


def _ce(model: Any, batch: Any) -> Any:
    xb, yb = batch
    return nn.functional.cross_entropy(model(xb), yb)


def _accuracy(model: Any, data: Any) -> float:
    hit = n = 0
    for xb, yb in data:
        hit += int((model(xb).argmax(1) == yb).sum())
        n += len(yb)
    return hit / max(1, n)


class _Seq(nn.Module):
    """A tanh RNN reading a sequence, a linear read-out of its last state."""

    def __init__(self, hidden: int, scale: float) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True, nonlinearity="tanh")
        self.out = nn.Linear(hidden, 1)
        with torch.no_grad():
            self.rnn.weight_hh_l0.mul_(scale)  # type: ignore[operator]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0][:, -1]).squeeze(1)


def run_exploding(*, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Unclipped vs clipped SGD on a large-initialisation tanh RNN (a running-sum regression): per run
    the loss at every step, the gradient norm per step, and where the unclipped run diverged."""
    g = torch.Generator().manual_seed(seed)
    n, length = (256, 30) if quick else (1024, 60)
    x = torch.randn(n, length, 1, generator=g)
    y = x.sum(dim=(1, 2)) / math.sqrt(length)
    data = _batches(x, y, 32)
    runs: dict[str, Any] = {}
    for name, clip in (("unclipped", None), ("clipped", 1.0)):
        seen: list[float] = []

        def mse(model: Any, batch: Any, seen: list[float] = seen) -> Any:
            xb, yb = batch
            loss = nn.functional.mse_loss(model(xb), yb)
            if model.training:
                seen.append(float(loss.detach()))
            return loss

        torch.manual_seed(seed)
        model = _Seq(32, scale=EXPLODE_SCALE)
        cfg = FitConfig(
            epochs=3 if quick else 8, lr=EXPLODE_LR, schedule="constant", clip_norm=clip, grad_every=1,
            patience=None, seed=seed, progress=False, valid_loss=False,
        )  # fmt: skip
        run: dict[str, Any] = {"clip_norm": clip, "diverged_at": None, "layer": None}
        try:
            res = fit(model, mse, data, config=cfg, optimizer=lambda ps: torch.optim.SGD(ps, lr=EXPLODE_LR))
            run["grad_norms"] = res.gradients.total
            run["clipped_share"] = res.gradient_diagnosis.clipped_share
        except NonFiniteError as err:
            run.update(diverged_at=err.step, layer=err.layer, message=str(err), grad_norms=[])
        run["losses"] = seen
        finite = [v for v in seen if math.isfinite(v)]
        run["final_loss"] = seen[-1] if seen and run["diverged_at"] is None else math.nan
        run["first_loss"] = finite[0] if finite else math.nan
        runs[name] = run
    return runs


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(torch.relu(x))


def _deep(kind: str, depth: int, channels: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(1, channels, 3, padding=1)]
    for _ in range(depth):
        if kind == "residual":
            layers.append(_Residual(channels))
            continue
        layers.append(nn.Conv2d(channels, channels, 3, padding=1))
        if kind == "batch norm":
            layers.append(nn.BatchNorm2d(channels))
        layers.append(nn.ReLU())
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 4)]
    return nn.Sequential(*layers)


def run_depth(*, quick: bool = False, seed: int = 0) -> list[dict[str, Any]]:
    """A deep CNN plain, with batch norm and residual: per-layer median gradient norms (input side
    first), the first/last ratio, the gradient diagnosis and the training curve."""
    g = torch.Generator().manual_seed(seed)
    depth, channels, size, n, epochs = (10, 6, 10, 128, 2) if quick else (24, 16, 16, 1024, 8)
    x, y = blob_images(n, size, g)
    train = _batches(x[: n * 3 // 4], y[: n * 3 // 4], 32)
    valid = _batches(x[n * 3 // 4 :], y[n * 3 // 4 :], 256)
    out = []
    for kind in ("plain", "batch norm", "residual"):
        torch.manual_seed(seed)
        model = _deep(kind, depth, channels)
        cfg = FitConfig(
            epochs=epochs, lr=3e-3, schedule="constant", clip_norm=None, grad_every=1, patience=None,
            chance=0.25, metric_name="accuracy", seed=seed, progress=False, restore_best=False,
        )  # fmt: skip
        res = fit(model, _ce, train, valid, _accuracy, cfg, train_eval=train)
        d = res.gradient_diagnosis
        out.append(
            {
                "model": kind,
                "depth": depth,
                "layer_norms": res.gradients.medians(),
                "grad_ratio": d.ratio,
                "gradients": d.verdict,
                "train_loss": res.curve("train_loss"),
                "valid_accuracy": res.curve("valid_metric"),
                "final_train_accuracy": res.history[-1]["train_metric"],
                "final_valid_accuracy": res.history[-1]["valid_metric"],
            }
        )
    return out


def _augment(g: torch.Generator) -> Any:
    def apply(x: torch.Tensor) -> torch.Tensor:
        shifted = torch.roll(x, shifts=tuple(torch.randint(-1, 2, (2,), generator=g).tolist()), dims=(2, 3))
        return shifted + 0.5 * torch.randn(x.shape, generator=g)

    return apply


def run_overfitting(*, quick: bool = False, seed: int = 0) -> list[dict[str, Any]]:
    """A wide MLP on few, noisily labelled images: plain, dropout, augmentation, early stopping; per
    variant the final train and validation accuracy, the relative gap and the fit diagnosis."""
    g = torch.Generator().manual_seed(seed)
    n_train, size, epochs = (96, 8, 15) if quick else (256, 12, 60)
    x, y = blob_images(n_train, size, g, flip=0.2)
    xv, yv = blob_images(512, size, g)
    train, valid = _batches(x, y, 32), _batches(xv, yv, 256)
    variants = {
        "plain": {"dropout": 0.0, "augment": False, "early_stopping": False},
        "dropout": {"dropout": 0.5, "augment": False, "early_stopping": False},
        "augmentation": {"dropout": 0.0, "augment": True, "early_stopping": False},
        "early stopping": {"dropout": 0.0, "augment": False, "early_stopping": True},
    }
    out = []
    for name, v in variants.items():
        torch.manual_seed(seed)
        p = v["dropout"]
        model = nn.Sequential(
            nn.Flatten(), nn.Linear(size * size, 512), nn.ReLU(), nn.Dropout(p),
            nn.Linear(512, 512), nn.ReLU(), nn.Dropout(p), nn.Linear(512, 4),
        )  # fmt: skip
        aug = _augment(torch.Generator().manual_seed(seed)) if v["augment"] else None

        def loss(m: Any, batch: Any, aug: Any = aug) -> Any:
            xb, yb = batch
            return nn.functional.cross_entropy(m(aug(xb) if aug and m.training else xb), yb)

        cfg = FitConfig(
            epochs=epochs, lr=3e-3, schedule="constant", clip_norm=None,
            patience=3 if v["early_stopping"] else None, chance=0.25, metric_name="accuracy", seed=seed,
            progress=False, restore_best=bool(v["early_stopping"]),
        )  # fmt: skip
        res = fit(model, loss, train, valid, _accuracy, cfg, train_eval=train)
        tr, va = _accuracy(model.eval(), train), _accuracy(model.eval(), valid)
        d = res.fit_diagnosis
        out.append(
            {
                "variant": name,
                "train_accuracy": tr,
                "valid_accuracy": va,
                "gap": (tr - va) / tr if tr > 0 else math.nan,
                "epochs": len(res.history),
                "best_epoch": res.best_epoch,
                "diagnosis": d.verdict if d else None,
                "train_curve": res.curve("train_metric"),
                "valid_curve": res.curve("valid_metric"),
            }
        )
    return out
