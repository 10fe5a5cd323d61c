"""The recommender's loop end to end (``shopml demo --task recs``): simulate a shop whose catalogue
surges with new items, train the first recommender before the surge, then replay every later day's
browsing under three retraining policies — shopml's triggered loop (the monitor's cold-share and
popularity checks, a drift trigger, the Recall@20 gate), a daily schedule, and never retraining — and
measure each day's Recall@20 of the answers each policy's champion gave against the sessions' next clicks.

The triggered policy's answers are written to its prediction log on simulated time (the same rows the
server logs, :func:`shopml.logstore.write_predictions`), so that its monitor and loop act on them; the
answers are the served ones (:func:`shopml.recs.loop.ranked_answers`: the ONNX graph, unknown items
skipped, the popularity list for a session with no known item). Each policy has its own workspace and
registry under ``WORKSPACE/demo-recs``; the dashboard shows the triggered loop with every policy's curve.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console

from shopml.config import Workspace
from shopml.journal.events import Event
from shopml.loop import Loop, LoopPolicy
from shopml.recs.gru import GRUParams
from shopml.recs.loop import RecsSteps, ranked_answers, request_context
from shopml.registry import ModelBundle, Registry

__all__ = ["POLICIES", "RecsDemoConfig", "RecsDemoResult", "run_recs_demo"]

#: The compared policies: the loop's triggers (drift: the cold-item share, performance), a daily
#: schedule, and never retraining.
POLICIES = ("triggered", "daily", "never")
K = 20


@dataclass(frozen=True)
class RecsDemoConfig:
    """The simulated shop and the training budget (small: a few minutes on an idle machine)."""

    days: int = 14
    onset: int = 9
    first_train_day: int = 7
    seed: int = 7
    customers: int = 3000
    session_rate: float = 0.25
    gru: GRUParams = field(
        default_factory=lambda: GRUParams(
            embedding=32, hidden=48, batch=128, n_sample=256, max_epochs=2, lr=5e-3
        )
    )
    gate_sessions: int = 1500
    n_resamples: int = 200


@dataclass
class RecsDemoResult:
    """What the recommender demo did and measured."""

    workspace: Path
    dashboard: Path
    timeline: list[str] = field(default_factory=list)
    daily: dict[str, list[float]] = field(default_factory=dict)
    days: list[str] = field(default_factory=list)
    retrains: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)
    policy_table: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    #: Per policy and day, 1/0 per request (the next click in the top K) and the requests' session keys.
    hits: dict[str, list[np.ndarray]] = field(default_factory=dict)
    sessions: list[list[str]] = field(default_factory=list)


def _policy(name: str) -> LoopPolicy:
    triggers: dict[str, Any] = {"cooldown_hours": 20, "episode_gap_hours": 30}
    if name == "daily":
        triggers |= {
            "drift": {"enabled": False},
            "performance": {"enabled": False},
            "schedule": {"enabled": True, "cron": "0 0 * * *"},
        }
    else:  # the cold-item share is what a retrain fixes (the new items enter the catalogue); the
        # popularity and top-1 checks also move with the simulated shop's daily item churn
        triggers |= {"drift": {"features": ["output:unknown_items"]}}
    return LoopPolicy.model_validate(
        {
            "model": "recs",
            "task": "recs",
            "triggers": triggers,
            "gate": {"n_resamples": 500, "min_positives": 50, "mode": "non_inferior", "margin": 0.01},
        }
    )


def _log_rows(
    bundle: ModelBundle, sessions: list[list[str]], times: np.ndarray, keys: list[str], answers: Any
) -> pa.Table:
    """The prediction-log rows the server writes for these answers, at the requests' simulated times."""
    items, scores = answers
    known = set(bundle.meta.model_dump(by_alias=True)["items"])
    n = len(sessions)
    top = [s[0] if s else float("nan") for s in scores]
    return pa.table(
        {
            "request_id": [uuid.uuid4().hex for _ in range(n)],
            "ts": pa.array(times, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "model": ["recs"] * n,
            "model_version": pa.array([int(bundle.version or 0)] * n, pa.int64()),
            "score": pa.array(top, pa.float64()),
            "decision": pa.array([None] * n, pa.int8()),
            "threshold": pa.array([None] * n, pa.float64()),
            "latency_ms": pa.array([0.0] * n, pa.float64()),
            "session_id": keys,
            "item": [i[0] if i else None for i in items],
            "items": pa.array(items, pa.list_(pa.string())),
            "scores": pa.array(scores, pa.list_(pa.float64())),
            "session": pa.array([s[-50:] for s in sessions], pa.list_(pa.string())),
            "session_length": pa.array([float(len(s)) for s in sessions], pa.float64()),
            "unknown_items": pa.array(
                [[x for x in s if x not in known] for s in sessions], pa.list_(pa.string())
            ),
        }
    )


def _day_events(world: Path, lo: datetime) -> pa.Table:
    from shopml.recs.data import load_events

    table, _ = load_events(world)
    t = table["event_time"]
    return table.filter(pc.and_(pc.greater_equal(t, lo), pc.less(t, lo + timedelta(days=1))))


def run_recs_demo(
    root: Path, cfg: RecsDemoConfig | None = None, console: Console | None = None
) -> RecsDemoResult:
    """Run the recommender's loop and the policy comparison; returns the measured outcomes."""
    from shopml.dashboard import PolicySeries, collect_dashboard, write_dashboard
    from shopml.logstore import write_predictions
    from shopml.monitor import run_monitor
    from shopml.simulate import simulate

    cfg = cfg or RecsDemoConfig()
    out = console or Console()
    t0 = time.monotonic()
    base = Path(root) / "demo-recs"
    if base.exists():
        shutil.rmtree(base)
    world = base / "world"
    out.rule(f"[bold]1. Simulating {cfg.days} days of browsing, a new-items surge from day {cfg.onset}")
    sim = simulate(
        world,
        days=cfg.days,
        seed=cfg.seed,
        customers=cfg.customers,
        session_rate=cfg.session_rate,
        scenario="new_items",
        onset=cfg.onset,
    )
    start = datetime.combine(sim.params.start, datetime.min.time()).replace(tzinfo=UTC)
    steps = RecsSteps(
        world, holdout_days=1, train_days=None, gru=cfg.gru, max_sessions=cfg.gate_sessions, seed=cfg.seed
    )
    out.rule(f"[bold]2. Training the first recommender on the sessions before day {cfg.first_train_day}")
    first_now = start + timedelta(days=cfg.first_train_day)
    first, _ = steps.train(_policy("never"), base / "first", first_now)
    result = RecsDemoResult(workspace=base, dashboard=base / "reports" / "dashboard.html")
    loops: dict[str, Loop | None] = {}
    regs: dict[str, Registry] = {}
    for name in POLICIES:
        ws = Workspace(base / name)
        ws.ensure()
        regs[name] = Registry(ws)
        regs[name].register(first, params={}, metrics={})
        loops[name] = None if name == "never" else Loop(ws, _policy(name), registry=regs[name], trainer=steps)
        result.daily[name], result.retrains[name] = [], 0
    out.rule("[bold]3. Replaying each day: answers, monitor, loop")
    for d in range(cfg.first_train_day, cfg.days):
        day = start + timedelta(days=d)
        sessions, labels, _, times, keys = request_context(_day_events(world, day))
        result.days.append(f"{day:%Y-%m-%d}")
        result.sessions.append(keys)
        for name in POLICIES:
            bundle = regs[name].load_bundle("recs", "champion")
            answers = ranked_answers(bundle, sessions, K)
            hits = np.asarray([y in items for y, items in zip(labels, answers[0], strict=True)], np.float64)
            result.hits.setdefault(name, []).append(hits)
            result.daily[name].append(float(hits.mean()) if hits.size else float("nan"))
            events: list[Event] = []
            if name == "triggered":
                write_predictions(base / name, "recs", _log_rows(bundle, sessions, times, keys, answers))
                events += run_monitor(
                    base / name, "recs", "1d", now=day + timedelta(days=1), html=False
                ).events
            loop = loops[name]
            if loop is not None:
                events += loop.step(now=day + timedelta(days=1))
            for e in events:
                if name == "triggered" or e.kind == "promotion":
                    when = (e.ts - start).total_seconds() / 86400
                    line = f"day {when:5.1f}  {name:<9} {e.kind:<10} {e.summary}"
                    result.timeline.append(line[:200])
                    out.print(result.timeline[-1])
                result.retrains[name] += e.kind == "promotion"
        out.print(
            f"day {d}: Recall@{K} "
            + ", ".join(f"{n} {result.daily[n][-1]:.3f}" for n in POLICIES)
            + f" ({len(labels):,} requests)"
        )
    result.outcomes = _outcomes(result, cfg)
    result.policy_table = [
        {
            "policy": n,
            "retrains": result.retrains[n],
            f"Recall@{K} before onset": _mean(result.daily[n][: cfg.onset - cfg.first_train_day]),
            f"Recall@{K} onset→end": _mean(result.daily[n][cfg.onset - cfg.first_train_day :]),
            "vs never, onset→end [95% CI]": _vs_never(result, n, cfg),
        }
        for n in POLICIES
    ]
    data = collect_dashboard(
        base / "triggered", "recs", metric="recall_at_k", initial_champion=(1, first_now.isoformat())
    )
    data.title = f"shopml dashboard — recommender (Recall@{K} per day by policy)"
    data.scenario, data.drift_onset = "new_items", (start + timedelta(days=cfg.onset)).isoformat()
    data.outcomes, data.policy_table = result.outcomes, result.policy_table
    data.policies = [
        PolicySeries(name=n, days=result.days, pr_auc=list(result.daily[n]), cost=[0.0] * len(result.days))
        for n in POLICIES
    ]
    write_dashboard(data, result.dashboard)
    result.seconds = time.monotonic() - t0
    return result


def _vs_never(result: RecsDemoResult, name: str, cfg: RecsDemoConfig) -> str:
    """Recall@K of ``name`` minus never-retrain over the requests from onset to the end, with its 95%
    interval (paired bootstrap of whole sessions: the same requests, both policies' answers)."""
    from shopml.stats import paired_difference

    after = cfg.onset - cfg.first_train_day
    if name == "never" or after >= len(result.days):
        return "–"
    a = np.concatenate(result.hits["never"][after:])
    b = np.concatenate(result.hits[name][after:])
    keys = [k for day in result.sessions[after:] for k in day]
    if not keys:
        return "–"
    groups = np.unique(np.asarray(keys, dtype=object).astype(str), return_inverse=True)[1]

    def mean_of(h: np.ndarray) -> Any:
        return lambda w: (np.atleast_2d(w) @ h) / np.atleast_2d(w).sum(axis=1)

    d = paired_difference(mean_of(a), mean_of(b), a.size, n_resamples=cfg.n_resamples, seed=0, groups=groups)
    return f"{d.diff.value:+.3f} [{d.diff.low:+.3f}, {d.diff.high:+.3f}]"


def _mean(values: list[float]) -> float | None:
    v = [x for x in values if np.isfinite(x)]
    return round(float(np.mean(v)), 4) if v else None


def _outcomes(result: RecsDemoResult, cfg: RecsDemoConfig) -> dict[str, Any]:
    """Days from onset to the triggered loop's first cold-share alarm and promotion; Recall@K after onset."""
    out: dict[str, Any] = {}
    for line in result.timeline:
        parts = line.split()
        day, policy, kind = float(parts[1]), parts[2], parts[3]
        if policy == "triggered" and day > cfg.onset:
            cold = kind == "drift" and "unknown_items" in line
            if cold and "detection (days after onset)" not in out:
                out["detection (days after onset)"] = round(day - cfg.onset, 1)
            if kind == "promotion" and "promotion (days after onset)" not in out:
                out["promotion (days after onset)"] = round(day - cfg.onset, 1)
    out.setdefault("detection (days after onset)", "none")
    out.setdefault("promotion (days after onset)", "none")
    after = cfg.onset - cfg.first_train_day
    for n in POLICIES:
        out[f"Recall@{K} onset→end, {n}"] = _mean(result.daily[n][after:])
    return out
