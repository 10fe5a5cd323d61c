"""``shopml train --task recs``: the protocol's split, the baselines and the oracle bound, the GRU through
the guarded loop, the report, the ONNX bundle (parity-checked) and its registration as ``recs``.

The GRU is fitted on the inner training sessions with early stopping on the validation sessions (the
same time split inside training); unless ``quick``, it is then refitted on all training sessions for the
best number of epochs, as the baselines are, before the test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopml.errors import DataError
from shopml.recs.baselines import VSKNN, ItemKNN, Popularity, SequentialRules, SessionPopularity
from shopml.recs.data import Sessions, Split, events_until, prepare, split_sessions
from shopml.recs.evaluate import Evaluation, evaluate, metric_names
from shopml.recs.gru import GRUParams, GRURecommender

__all__ = ["RecsConfig", "RecsResult", "fit_and_evaluate", "quick_config"]

Say = Callable[[str], None]
BASELINES = ("popularity", "session_popularity", "item_knn", "sequential_rules", "v_sknn")


@dataclass(frozen=True)
class RecsConfig:
    """Settings of one recommender run (``quick``: a smaller model on the last ``train_days``)."""

    data_dir: Path
    name: str = "recs"
    test_days: float = 2.0
    valid_days: float | None = None
    train_days: float | None = None
    k: int = 20
    n_resamples: int = 1000
    level: float = 0.95
    seed: int = 42
    gru: GRUParams = field(default_factory=GRUParams)
    refit: bool = True
    valid_sessions: int = 2000
    parity_sessions: int = 200
    threads: int = 1
    quick: bool = False
    #: Only events before this time (a retrain at a point in time); None: every event.
    until: datetime | None = None
    #: Also fit and evaluate the baselines and the oracle bound (a loop's challenger needs only the GRU).
    baselines: bool = True


def quick_config(data_dir: Path, seed: int = 42) -> RecsConfig:
    """The ``--quick`` settings: two weeks of training, a small model, three epochs, no refit."""
    gru = GRUParams(embedding=48, hidden=64, batch=128, n_sample=512, max_epochs=3, lr=3e-3)
    return RecsConfig(
        data_dir,
        train_days=14,
        n_resamples=200,
        seed=seed,
        gru=gru,
        refit=False,
        valid_sessions=800,
        quick=True,
    )


@dataclass
class RecsResult:
    """What a run measured and wrote."""

    split: Split
    evaluations: dict[str, Evaluation]
    gru: GRURecommender
    verdict: str
    notes: list[str]
    seconds: float
    bundle_dir: Path | None = None
    report_path: Path | None = None
    version: Any = None
    parity: Any = None

    def table(self) -> dict[str, dict[str, Any]]:
        """Model → metrics with intervals (JSON-ready)."""
        return {k: v.to_dict() for k, v in self.evaluations.items()}


def _recent(s: Sessions, days: float | None) -> Sessions:
    if days is None:
        return s
    end = s.time[s.offsets[1:] - 1]
    return s.take(np.flatnonzero(end > end.max() - days * 86_400_000_000))


def _sample(s: Sessions, n: int, seed: int) -> Sessions:
    if s.n_sessions <= n:
        return s
    return s.take(np.sort(np.random.default_rng(seed).choice(s.n_sessions, n, replace=False)))


def _baselines(n_items: int) -> dict[str, Any]:
    return {
        "popularity": Popularity(n_items),
        "session_popularity": SessionPopularity(n_items),
        "item_knn": ItemKNN(n_items),
        "sequential_rules": SequentialRules(n_items),
        "v_sknn": VSKNN(n_items),
    }


def verdict(evals: dict[str, Evaluation], k: int) -> str:
    """Where the GRU stands against each baseline on both metrics (intervals overlapping or not)."""
    if "gru" not in evals:
        return ""
    parts = []
    for name in (b for b in BASELINES if b in evals):
        for m in metric_names(k):
            g, b = evals["gru"].metrics[m], evals[name].metrics[m]
            if g.low > b.high:
                parts.append(f"GRU beats {name} on {m} (intervals apart)")
            elif b.low > g.high:
                parts.append(f"{name} beats the GRU on {m} (intervals apart)")
            else:
                parts.append(f"GRU and {name} overlap on {m}")
    return "; ".join(parts) + "."


def fit_and_evaluate(cfg: RecsConfig, say: Say = lambda _m: None) -> RecsResult:
    """Split, fit and evaluate every model on the same test sessions (no bundle, no registry)."""
    import torch

    from shopml.nn import FitConfig

    began = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    say("sessions: protocol and split")
    table, by_customer = events_until(cfg.data_dir, cfg.until)
    sessions, ids = prepare(table, by_customer=by_customer)
    sp = split_sessions(sessions, ids, test_days=cfg.test_days, valid_days=cfg.valid_days)
    train, inner = _recent(sp.train, cfg.train_days), _recent(sp.inner, cfg.train_days)
    n_items, k = len(sp.items), cfg.k
    ev: dict[str, Evaluation] = {}

    def run(name: str, model: Any, t0: float) -> Evaluation:
        e = evaluate(name, model, sp.test, k=k, n_resamples=cfg.n_resamples, level=cfg.level, seed=cfg.seed)
        e.seconds = time.perf_counter() - t0
        return e

    for name, model in (_baselines(n_items) if cfg.baselines else {}).items():
        say(f"baseline: {name}")
        t0 = time.perf_counter()
        ev[name] = run(name, model.fit(train), t0)
    notes: list[str] = []
    try:
        if not cfg.baselines:
            raise DataError("not asked for (baselines off)")
        from shopml.recs.oracle import OracleScorer

        say("oracle bound")
        t0 = time.perf_counter()
        ev["oracle"] = run("oracle", OracleScorer(cfg.data_dir, sp.items), t0)
    except DataError as exc:
        notes.append(f"no oracle bound: {exc}")
    say("GRU: guarded training")
    t0 = time.perf_counter()
    fit_cfg = FitConfig(
        epochs=cfg.gru.max_epochs,
        lr=cfg.gru.lr,
        clip_norm=cfg.gru.clip_norm,
        patience=2,
        metric_name=f"validation recall@{k}",
        seed=cfg.seed,
        threads=cfg.threads,
        valid_loss=False,
        grad_every=25,
        weight_decay=0.0,
    )
    valid = _sample(sp.valid, cfg.valid_sessions, cfg.seed)
    gru = GRURecommender(n_items, cfg.gru, cfg.seed).fit(
        inner, valid, config=fit_cfg, train_eval=_sample(_recent(inner, 7), cfg.valid_sessions, cfg.seed)
    )
    if cfg.refit:
        say(f"GRU: refit on all training sessions for {gru.fit_.best_epoch} epochs")
        first = gru.fit_
        again = replace(fit_cfg, epochs=max(first.best_epoch, 1), patience=None)
        gru = GRURecommender(n_items, cfg.gru, cfg.seed).fit(train, None, config=again)
        gru.selection_ = first
    else:
        gru.selection_ = gru.fit_
    ev = {"gru": run("gru", gru, t0), **ev}
    return RecsResult(sp, ev, gru, verdict(ev, k), notes, time.perf_counter() - began)


def config_dict(cfg: RecsConfig) -> dict[str, Any]:
    """The config as JSON-ready values."""
    out = asdict(cfg)
    out["data_dir"] = str(cfg.data_dir)
    out["until"] = None if cfg.until is None else cfg.until.isoformat()
    return out
