"""The GRU recommender as an estimator: parameters as given, ``fit`` on training sessions (validated on
later ones), ``score_sessions`` for evaluation, ``export_onnx`` for serving.

One training step reads a session-parallel step (:mod:`shopml.recs.batching`), scores the batch's
targets plus ``n_sample`` extra items drawn by support^``sample_alpha``, and takes the loss
(``xe_logq`` or ``bpr_max``, :mod:`shopml.recs.model`); the hidden state is carried across steps and
reset where a lane starts a new session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from shopml.errors import ConfigError
from shopml.recs.batching import NegativeSampler, Step, session_parallel
from shopml.recs.data import Sessions
from shopml.recs.evaluate import point_recall, prefix_rows

__all__ = ["EpochSteps", "GRUParams", "GRURecommender"]


@dataclass(frozen=True)
class GRUParams:
    """Hyper-parameters (defaults: the small end of GRU4Rec's published ranges)."""

    embedding: int = 64
    hidden: int = 128
    cell: Literal["gru", "lstm"] = "gru"
    loss: Literal["xe_logq", "bpr_max"] = "xe_logq"
    batch: int = 128
    n_sample: int = 1024
    sample_alpha: float = 0.5
    dropout_embedding: float = 0.1
    dropout_hidden: float = 0.1
    lr: float = 3e-3
    bpr_reg: float = 1.0
    max_epochs: int = 6
    clip_norm: float = 5.0

    def __post_init__(self) -> None:
        if self.loss not in ("xe_logq", "bpr_max") or self.cell not in ("gru", "lstm"):
            raise ConfigError(
                f"loss must be xe_logq|bpr_max and cell gru|lstm, got {self.loss!r}, {self.cell!r}"
            )
        for name in ("embedding", "hidden", "batch", "max_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")


class EpochSteps:
    """A re-iterable source of session-parallel steps: each pass is one epoch in a fresh random session
    order; every epoch has at most ``len()`` steps (the first epoch's count), so a per-step schedule
    never runs past its end."""

    def __init__(self, s: Sessions, batch: int, seed: int) -> None:
        self.s, self.batch, self.seed = s, batch, seed
        self.epoch = 0
        self.steps = sum(1 for _ in session_parallel(s, batch, np.random.default_rng([seed, 0])))

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[Step]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        for i, step in enumerate(session_parallel(self.s, self.batch, rng)):
            if i >= self.steps:
                return
            yield step


class GRURecommender:
    """Session-based GRU recommender over ``n_items`` items. After ``fit``: ``model_`` (the network),
    ``fit_`` (the loop's result) and ``selection_`` (the result that chose the epochs)."""

    model_: Any
    fit_: Any
    selection_: Any

    def __init__(self, n_items: int, params: GRUParams | None = None, seed: int = 0) -> None:
        self.n_items = n_items
        self.params = params or GRUParams()
        self.seed = seed

    def build(self) -> Any:
        """A fresh, seeded :class:`shopml.recs.model.GRURec` (also ``model_``)."""
        import torch

        from shopml.recs.model import GRURec

        torch.manual_seed(self.seed)
        p = self.params
        self.model_ = GRURec(
            self.n_items, p.embedding, p.hidden, p.cell, p.dropout_embedding, p.dropout_hidden
        )
        return self.model_

    def loss_fn(self, train: Sessions) -> Callable[[Any, Step], Any]:
        """``loss(model, step)`` for :func:`shopml.nn.fit`: one session-parallel step's loss, the hidden
        state carried from the previous step (reset where a lane starts a new session)."""
        import torch

        from shopml.recs.model import bpr_max_loss, sampled_logits, xe_logq_loss

        p = self.params
        counts = np.bincount(train.item, minlength=self.n_items)
        sampler = NegativeSampler(counts, p.sample_alpha, p.n_sample, np.random.default_rng([self.seed, 1]))
        log_count = torch.from_numpy(sampler.log_expected_count(counts, p.batch).astype(np.float32))
        state: list[Any] = [None]

        def loss(model: Any, step: Step) -> Any:
            x, y = torch.from_numpy(step.x), torch.from_numpy(step.y)
            if state[0] is not None:
                state[0] = model.reset(state[0], torch.from_numpy(step.keep))
            rep, state[0] = model.encode(x.view(-1, 1), state[0])
            extra = torch.from_numpy(sampler.draw())
            if p.loss == "xe_logq":
                return xe_logq_loss(sampled_logits(model, rep[:, 0], y, extra, log_count))
            return bpr_max_loss(sampled_logits(model, rep[:, 0], y, extra, None), p.bpr_reg)

        return loss

    def fit(
        self,
        train: Sessions,
        valid: Sessions | None = None,
        *,
        config: Any = None,
        train_eval: Sessions | None = None,
    ) -> GRURecommender:
        """Train through the guarded loop (:func:`shopml.nn.fit`: clipping, gradient log, NaN stop, early
        stopping on validation Recall@20 with the best weights restored); ``fit_`` holds its result."""
        from shopml.nn import FitConfig, fit

        model = self.build()
        cfg = config or FitConfig(epochs=self.params.max_epochs, lr=self.params.lr, seed=self.seed)

        def recall(_model: Any, data: Any) -> float:
            (sessions,) = data
            return point_recall(self, sessions, 20)

        self.fit_ = fit(
            model,
            self.loss_fn(train),
            EpochSteps(train, self.params.batch, self.seed),
            [valid] if valid is not None else None,
            recall if valid is not None else None,
            cfg,
            train_eval=[train_eval] if train_eval is not None else None,
        )
        return self

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """Scores of every item after each event but the last of ``sessions``."""
        import torch

        lens = s.lengths[sessions]
        width = int(lens.max())
        items = np.zeros((sessions.size, width), np.int64)
        for i, (a, n) in enumerate(zip(s.offsets[sessions].tolist(), lens.tolist(), strict=True)):
            items[i, :n] = s.item[a : a + n]
        self.model_.eval()
        with torch.no_grad():
            rep, _ = self.model_.encode(torch.from_numpy(items))
            mask = np.arange(width)[None, :] < (lens - 1)[:, None]  # prefixes: all but the last event
            out = self.model_.scores(rep[torch.from_numpy(mask)])
        last, _ = prefix_rows(s, sessions)
        if out.shape[0] != last.size:
            raise RuntimeError("prefix count mismatch")
        return out.numpy()

    def info(self) -> dict[str, Any]:
        """Parameters for the registry and the report."""
        return {"n_items": self.n_items, "seed": self.seed, **asdict(self.params)}
