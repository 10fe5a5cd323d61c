"""Baselines and the oracle on the same split: ranks over all items, conservative ties, intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shopml.recs.baselines import VSKNN, ItemKNN, Popularity, SequentialRules, SessionPopularity
from shopml.recs.data import Sessions, Split
from shopml.recs.evaluate import evaluate, prefix_rows
from shopml.recs.oracle import OracleScorer


class Constant:
    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        return np.zeros((int((s.lengths[sessions] - 1).sum()), int(s.item.max()) + 1), np.float32)


def test_constant_scorer_gets_no_credit(recs_split: Split) -> None:
    e = evaluate("constant", Constant(), recs_split.test, n_resamples=50)
    assert e.metrics["recall@20"].value == 0.0 and e.metrics["mrr@20"].value == 0.0


def test_prefix_rows_cover_every_target(recs_split: Split) -> None:
    s = recs_split.test
    last, target = prefix_rows(s, np.arange(s.n_sessions))
    assert target.size == len(s.item) - s.n_sessions and (target - last == 1).all()


def test_baselines_and_oracle_order(recs_split: Split, recs_world: Path) -> None:
    sp, n = recs_split, len(recs_split.items)
    got = {}
    for name, model in (
        ("pop", Popularity(n)),
        ("spop", SessionPopularity(n)),
        ("iknn", ItemKNN(n)),
        ("sr", SequentialRules(n)),
        ("vsknn", VSKNN(n)),
    ):
        e = evaluate(name, model.fit(sp.train), sp.test, n_resamples=100)
        iv = e.metrics["recall@20"]
        assert iv.low <= iv.value <= iv.high
        got[name] = iv.value
    oracle = evaluate("oracle", OracleScorer(recs_world, sp.items), sp.test, n_resamples=100)
    got["oracle"] = oracle.metrics["recall@20"].value
    assert got["pop"] < got["iknn"] < got["vsknn"] < got["oracle"]
    assert got["pop"] < got["spop"] and got["pop"] < got["sr"]
