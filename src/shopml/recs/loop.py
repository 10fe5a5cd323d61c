"""The recommender in the retrain loop (:class:`shopml.loop.retrain.BundleSteps`): the challenger is
trained from the sessions tables known at the retrain moment, and the gate compares it with the champion
on Recall@K over fresh sessions — the last ``holdout_days`` before the retrain, which the challenger's own
time split holds out and the champion never saw — with the paired bootstrap resampling whole sessions.

Both models answer every request as the server does (the session so far, unknown items skipped, the
latest ``max_session_length`` known items; the popularity list when none is known), and each answer's
top-K is ranked against the session's next event. Items are compared by id, so a challenger that knows
the newly launched items gets credit for recommending them and the champion cannot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.kinds.ranking import items_of, top_k
from shopml.recs.data import events_until
from shopml.recs.gru import GRUParams
from shopml.registry.bundle import ModelBundle

if TYPE_CHECKING:
    from shopml.loop.gate import GateDecision
    from shopml.loop.policy import LoopPolicy

__all__ = ["RecsSteps", "holdout_requests", "ranked_answers", "ranked_lists", "request_context"]

QUICK_GRU = GRUParams(embedding=48, hidden=64, batch=128, n_sample=512, max_epochs=3, lr=3e-3)


def holdout_requests(
    table: pa.Table, max_sessions: int | None = None, seed: int = 0
) -> tuple[list[list[str]], list[str], np.ndarray]:
    """Every event but a session's last as a request (its session so far) labelled with the next event's
    item: (sessions, next items, session number per request); ``max_sessions``: a seeded sample. The
    requests' times and session keys: :func:`request_context`."""
    sessions, labels, groups, _ = _requests(table, max_sessions, seed)
    return sessions, labels, groups


def request_context(table: pa.Table) -> tuple[list[list[str]], list[str], np.ndarray, np.ndarray, list[str]]:
    """:func:`holdout_requests` of every session, with each request's time (µs) and session key."""
    sessions, labels, groups, rows = _requests(table, None, 0)
    keys = pc.dictionary_encode(table["session_key"].combine_chunks()).dictionary.to_pylist()
    return sessions, labels, groups, rows, [str(keys[g]) for g in groups.tolist()]


def _requests(
    table: pa.Table, max_sessions: int | None, seed: int
) -> tuple[list[list[str]], list[str], np.ndarray, np.ndarray]:
    keys = pc.dictionary_encode(table["session_key"].combine_chunks()).indices.to_numpy()
    time = pc.cast(table["event_time"], pa.int64()).to_numpy()
    order = np.lexsort((time, keys))
    k = keys[order]
    items = np.asarray(table["item_id"].combine_chunks().take(pa.array(order)).to_pylist(), dtype=object)
    chosen = np.unique(k)
    if max_sessions is not None and chosen.size > max_sessions:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, max_sessions, replace=False))
    keep = np.isin(k, chosen)
    sessions: list[list[str]] = []
    labels: list[str] = []
    groups: list[int] = []
    times: list[int] = []
    current: list[str] = []
    for i in range(len(k)):
        current = [*current, str(items[i])] if i > 0 and k[i] == k[i - 1] else [str(items[i])]
        if keep[i] and i + 1 < len(k) and k[i + 1] == k[i]:
            sessions.append(current)
            labels.append(str(items[i + 1]))
            groups.append(int(k[i]))
            times.append(int(time[order[i]]))
    return sessions, labels, np.asarray(groups, dtype=np.int64), np.asarray(times, dtype=np.int64)


def ranked_lists(bundle: ModelBundle, sessions: list[list[str]], k: int, batch: int = 512) -> list[list[str]]:
    """The top-``k`` item ids ``bundle`` serves for each session (see the module docstring)."""
    return ranked_answers(bundle, sessions, k, batch)[0]


def ranked_answers(
    bundle: ModelBundle, sessions: list[list[str]], k: int, batch: int = 512
) -> tuple[list[list[str]], list[list[float]]]:
    """The top-``k`` item ids and their scores (NaN: the popularity list) ``bundle`` serves per session."""
    import onnxruntime as ort

    meta = bundle.meta.model_dump(by_alias=True)
    names = items_of(meta)
    index = {c: i for i, c in enumerate(names)}
    max_len = int(meta.get("max_session_length") or 50)
    popular = [str(p) for p in meta.get("popular") or () if str(p) in index][:k]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(bundle.onnx_path), opts, providers=["CPUExecutionProvider"])
    catalogue = np.asarray(names, dtype=object)
    out: list[list[str]] = []
    out_scores: list[list[float]] = []
    for lo in range(0, len(sessions), batch):
        known = [[index[x] for x in s if x in index][-max_len:] for s in sessions[lo : lo + batch]]
        width = max(1, max(len(r) for r in known))
        x = np.zeros((len(known), width), np.int64)
        for i, r in enumerate(known):
            x[i, : len(r)] = r
        lengths = np.asarray([max(len(r), 1) for r in known], np.int64)
        scores = sess.run(None, {"items": x, "lengths": lengths})[0]
        best = top_k(scores, k)
        out += [catalogue[best[i]].tolist() if r else popular for i, r in enumerate(known)]
        out_scores += [
            scores[i, best[i]].astype(np.float64).tolist() if r else [float("nan")] * len(popular)
            for i, r in enumerate(known)
        ]
    return out, out_scores


@dataclass(frozen=True)
class RecsSteps:
    """Train and gate the recommender from the simulator's (or a shop's) ``sessions/`` under ``data_dir``."""

    data_dir: Path
    holdout_days: float = 1.0
    train_days: float | None = 14.0
    gru: GRUParams = field(default_factory=lambda: QUICK_GRU)
    k: int = 20
    seed: int = 42
    max_sessions: int | None = 3000
    n_resamples: int = 200

    def config(self, name: str, now: datetime) -> Any:
        """The challenger's training settings (``--quick``-sized, GRU only, data before ``now``)."""
        from shopml.recs.train import RecsConfig

        return RecsConfig(
            Path(self.data_dir),
            name=name,
            test_days=self.holdout_days,
            train_days=self.train_days,
            k=self.k,
            n_resamples=self.n_resamples,
            seed=self.seed,
            gru=self.gru,
            refit=False,
            valid_sessions=800,
            parity_sessions=100,
            until=now,
            baselines=False,
        )

    def train(self, policy: LoopPolicy, out_dir: Path, now: datetime) -> tuple[Path, int]:
        """Fit on the sessions before ``now`` and write the bundle (no registration: the loop does it)."""
        from shopml.recs.bundle import publish_recs
        from shopml.recs.train import fit_and_evaluate

        cfg = self.config(policy.model, now)
        result = publish_recs(cfg, fit_and_evaluate(cfg), ws=None, register=False, out_dir=out_dir)
        return Path(str(result.bundle_dir)), int(result.split.train.item.size)

    def gate(
        self, policy: LoopPolicy, challenger: ModelBundle, champion: ModelBundle | None, now: datetime
    ) -> GateDecision:
        """Recall@K of both models on the requests of the last ``holdout_days`` before ``now``."""
        from shopml.loop.gate import decide

        start = now - timedelta(days=self.holdout_days)
        table, _ = events_until(self.data_dir, now)
        table = table.filter(
            pc.greater_equal(table["event_time"], pa.scalar(start, table["event_time"].type))
        )
        sessions, labels, groups = holdout_requests(table, self.max_sessions, self.seed)
        chal = ranked_lists(challenger, sessions, self.k)
        champ = ranked_lists(champion, sessions, self.k) if champion is not None else None
        ids = sorted({*labels, *(i for r in chal for i in r), *(i for r in champ or () for i in r)})
        index = {c: i for i, c in enumerate(ids)}

        def encode(lists: list[list[str]]) -> np.ndarray:
            m = np.full((len(lists), self.k), -1, np.int64)
            for i, r in enumerate(lists):
                m[i, : len(r)] = [index[x] for x in r]
            return m

        y = np.asarray([index[x] for x in labels], np.int64)
        decision = decide(
            y,
            encode(chal),
            encode(champ) if champ is not None else None,
            policy.gate,
            groups=groups,
            kind="ranking",
        )
        decision.holdout = {
            "holdout_start": start.isoformat(),
            "holdout_end": now.isoformat(),
            "requests": len(sessions),
            "sessions": int(np.unique(groups).size),
            "k": self.k,
            "labels": "the session's next event",
            "bootstrap": "paired, whole sessions resampled",
        }
        return decision
