"""``train_images``: product photos → a CNN through the guarded loop, baselines in the same run,
metrics with intervals, the review threshold, ONNX with parity, report, bundle and registration.

Order: load photos → hold out a stratified validation share of the training photos → fit the CNN
(:func:`shopml.nn.fit`: AdamW, one-cycle, clipping, early stopping on validation accuracy) → test
probabilities → the multiclass kind's metric family with bootstrap intervals, per-class precision and
recall, confusion matrix, ECE → the auto-assign threshold chosen on validation for the target
precision, then measured on test → baselines → ONNX + parity → report → bundle → register.
"""

from __future__ import annotations

import hashlib
import math
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopml.images.config import ImagesConfig
from shopml.images.idx import ImageSet, load_images

__all__ = ["Batches", "ImagesRun", "fit_cnn", "split_valid"]


class Batches:
    """Re-iterable mini-batches of float photos ``[B, 1, 28, 28]`` and labels (shuffled each pass
    from a seeded generator when ``shuffle``)."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, batch: int, shuffle: bool = False, seed: int = 0
    ) -> None:
        import torch

        from shopml.images.cnn import to_tensor

        self.x, self.y = to_tensor(x), torch.as_tensor(y, dtype=torch.long)
        self.batch, self.shuffle = batch, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.y) / self.batch)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        import torch

        n = len(self.y)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for i in range(0, n, self.batch):
            idx = order[i : i + self.batch]
            yield self.x[idx], self.y[idx]


def split_valid(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified random (training, validation) row indices."""
    rng = np.random.default_rng([seed, 7])
    valid = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        valid.append(rng.permutation(rows)[: max(1, round(share * rows.size))])
    v = np.sort(np.concatenate(valid))
    return np.setdiff1d(np.arange(y.size), v), v


def _accuracy(model: Any, data: Any) -> float:
    hit = n = 0
    for xb, yb in data:
        hit += int((model(xb).argmax(1) == yb).sum())
        n += len(yb)
    return hit / max(1, n)


def fit_cnn(
    x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, n_classes: int, cfg: ImagesConfig
) -> tuple[Any, Any]:
    """Fit the CNN through the guarded loop; returns (classifier, :class:`shopml.nn.FitResult`)."""
    import torch

    from shopml.images.cnn import Augment, Classifier, build_cnn
    from shopml.nn import FitConfig, fit, seed_everything

    seed_everything(cfg.seed)
    pixels = x.astype(np.float32) / 255.0
    model = Classifier(
        build_cnn(n_classes, cfg.width, cfg.dropout, cfg.extra_block, cfg.pool), pixels.mean(), pixels.std()
    )
    augment = Augment(seed=cfg.seed)
    smoothing = cfg.label_smoothing
    layout = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)  # type: ignore[call-overload]

    def loss_fn(m: Any, batch: Any) -> Any:
        xb, yb = batch
        if m.training:
            xb = augment(xb)
        return torch.nn.functional.cross_entropy(
            m(xb.contiguous(memory_format=layout)), yb, label_smoothing=smoothing
        )

    train = Batches(x, y, cfg.batch, shuffle=True, seed=cfg.seed)
    valid = Batches(xv, yv, 512)
    probe = np.random.default_rng(cfg.seed).permutation(len(y))[: min(len(y), max(len(yv), 2000))]
    train_eval = Batches(x[probe], y[probe], 512)
    fit_cfg = FitConfig(
        epochs=cfg.epochs,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        schedule="one_cycle",
        clip_norm=2.0,
        grad_every=20,
        patience=cfg.patience,
        chance=1.0 / n_classes,
        metric_name="accuracy",
        seed=cfg.seed,
        threads=cfg.threads,
        progress=not cfg.quick,
        valid_loss=True,
    )
    result = fit(model, loss_fn, train, valid, _accuracy, fit_cfg, train_eval=train_eval)
    return model.to(memory_format=torch.contiguous_format), result  # exported and served in NCHW


@dataclass
class ImagesRun:
    """Everything a run measured (what the report shows and the bundle records)."""

    data: ImageSet
    classes: list[str]
    fit: Any  # shopml.nn.FitResult
    test_proba: np.ndarray
    valid_proba: np.ndarray
    metrics: dict[str, Any]  # name → shopml.stats.Interval
    baselines: dict[str, dict[str, Any]]  # name → {"proba", "seconds", "metrics"}
    per_class: list[dict[str, Any]]
    confusion: np.ndarray
    ece: float
    reliability: list[dict[str, float]]
    coverage: dict[str, list[float]]
    review: dict[str, Any]
    train_seconds: float
    peak_memory_mb: float
    fingerprint: str
    serving: Any
    n_train: int
    n_valid: int


def peak_memory_mb() -> float:
    """The process's peak resident memory so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fingerprint(ds: ImageSet) -> str:
    """SHA-256 over the photos and labels (what the model was trained and tested on)."""
    h = hashlib.sha256()
    for a in (ds.train_x, ds.train_y, ds.test_x, ds.test_y):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def run_images(cfg: ImagesConfig, say: Callable[[str], None]) -> ImagesRun:
    """Load, fit, measure (everything but export and publication)."""
    from shopml.images.baselines import fit_baselines
    from shopml.images.cnn import Serving
    from shopml.images.evaluate import (
        at_threshold,
        confusion,
        coverage_precision,
        ece,
        per_class,
        review_threshold,
    )
    from shopml.images.export import torch_proba
    from shopml.kinds import get_kind

    say("loading photos")
    ds = load_images(cfg.data)
    if cfg.max_train or cfg.max_test:
        ds = ds.subset(cfg.max_train or len(ds.train_y), cfg.max_test or len(ds.test_y), cfg.seed)
    c = len(ds.classes)
    tr, va = split_valid(ds.train_y, cfg.valid_share, cfg.seed)
    say(f"CNN: {len(tr)} training, {len(va)} validation photos, {c} classes")
    start = time.perf_counter()
    model, result = fit_cnn(ds.train_x[tr], ds.train_y[tr], ds.train_x[va], ds.train_y[va], c, cfg)
    seconds = time.perf_counter() - start
    serving = Serving(model, mirror=cfg.mirror)
    test_p = torch_proba(serving, ds.test_x)
    valid_p = torch_proba(serving, ds.train_x[va])
    kind = get_kind("multiclass")
    say("test metrics with intervals")

    def intervals(p: np.ndarray) -> dict[str, Any]:
        return kind.intervals(ds.test_y, p, n_resamples=cfg.n_resamples, level=cfg.level, seed=cfg.seed)

    metrics = intervals(test_p)
    chosen = review_threshold(ds.train_y[va], valid_p, cfg.precision_target)
    review = {
        "target": cfg.precision_target,
        "chosen_on": "validation",
        "validation": chosen,
        "test": at_threshold(ds.test_y, test_p, chosen["threshold"])
        if np.isfinite(chosen["threshold"])
        else {},
    }
    base: dict[str, dict[str, Any]] = {}
    if cfg.baselines:
        base = fit_baselines(
            ds.train_x[tr], ds.train_y[tr], ds.test_x, n_classes=c, seed=cfg.seed, quick=cfg.quick, say=say
        )
        for b in base.values():
            b["metrics"] = intervals(b["proba"])
    e, rel = ece(ds.test_y, test_p)
    return ImagesRun(
        data=ds,
        classes=ds.classes,
        fit=result,
        test_proba=test_p,
        valid_proba=valid_p,
        metrics=metrics,
        baselines=base,
        per_class=per_class(ds.test_y, test_p, ds.classes),
        confusion=confusion(ds.test_y, test_p, c),
        ece=e,
        reliability=rel,
        coverage=coverage_precision(ds.test_y, test_p),
        review=review,
        train_seconds=seconds,
        peak_memory_mb=peak_memory_mb(),
        fingerprint=fingerprint(ds),
        serving=serving,
        n_train=len(tr),
        n_valid=len(va),
    )
