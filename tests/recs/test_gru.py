"""The GRU recommender's options train through the guarded loop: LSTM cell, BPR-max loss."""

from __future__ import annotations

import numpy as np

from shopml.nn import FitConfig
from shopml.recs.data import Split
from shopml.recs.evaluate import point_recall
from shopml.recs.gru import GRUParams, GRURecommender


def test_lstm_with_bpr_max_learns(recs_split: Split) -> None:
    sp, n = recs_split, len(recs_split.items)
    train = sp.inner.take(np.arange(min(1000, sp.inner.n_sessions)))
    params = GRUParams(embedding=8, hidden=16, cell="lstm", loss="bpr_max", batch=64, n_sample=64, lr=1e-2)
    cfg = FitConfig(
        epochs=1, lr=1e-2, clip_norm=5.0, patience=None, progress=False, valid_loss=False, threads=1
    )
    gru = GRURecommender(n, params, seed=3).fit(train, sp.valid.take(np.arange(200)), config=cfg)
    assert len(gru.fit_.history) == 1 and gru.fit_.gradient_diagnosis.verdict == "healthy"
    assert point_recall(gru, sp.test) > 3 * 20 / n  # well above chance after one short epoch
