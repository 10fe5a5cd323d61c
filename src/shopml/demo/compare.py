"""Three retraining policies on the same simulated period: never retrain, a fixed weekly schedule, and
shopml's triggered loop (its scores are the ones the server really answered with, from the log)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from rich.console import Console

from shopml.config import Workspace
from shopml.demo.policies import PolicyOutcome, daily_outcome, period_metrics
from shopml.journal import EventStore
from shopml.loop import Loop, LoopPolicy
from shopml.loop.bootstrap import paired_bootstrap
from shopml.loop.scoring import score_table
from shopml.monitor import PredictionLog
from shopml.registry import ModelBundle, Registry
from shopml.stats import Costs

if TYPE_CHECKING:
    from shopml.demo.run import DemoConfig

__all__ = ["PolicyRun", "compare_policies"]


@dataclass
class PolicyRun:
    """One policy's daily series and its pooled numbers per period."""

    name: str
    outcome: PolicyOutcome
    periods: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: PR-AUC of this policy minus never-retrain from drift onset to the end, with its 95% interval
    #: (paired bootstrap of hour blocks on the same rows; PR-AUC within each period the policy served one
    #: model, averaged by frauds, so two models' scores are never ranked together); None for never-retrain
    vs_never: tuple[float, float, float] | None = None


def _vs_never(
    y: np.ndarray,
    never: np.ndarray,
    scores: np.ndarray,
    hours: np.ndarray,
    mask: np.ndarray,
    versions: np.ndarray,
) -> tuple[float, float, float] | None:
    """``(difference, low, high)`` of PR-AUC (policy - never) on the rows in ``mask``, within the periods
    of the policy's model ``versions``."""
    yy = y[mask]
    if not mask.any() or yy.min() == yy.max():
        return None  # no period, or one class only: PR-AUC undefined
    if np.array_equal(never[mask], scores[mask]):
        return 0.0, 0.0, 0.0  # the policy never changed model after onset
    pb = paired_bootstrap(
        yy,
        never[mask],
        scores[mask],
        n_resamples=1000,
        level=0.95,
        groups=hours[mask],
        segments=versions[mask],
    )
    return pb.diff, pb.diff_ci[0], pb.diff_ci[1]


def _period_rows(world: Path, start: datetime, first_day: int, days: int) -> pa.Table:
    lo = pa.scalar(start + timedelta(days=first_day), pa.timestamp("us", "UTC"))
    hi = pa.scalar(start + timedelta(days=days), pa.timestamp("us", "UTC"))
    t = ds.dataset(world / "transactions", format="parquet", partitioning="hive")
    table = t.to_table(filter=(ds.field("event_time") >= lo) & (ds.field("event_time") < hi))
    return table.sort_by("event_time")


def _champion_per_day(
    bundles: dict[int, ModelBundle], switches: list[tuple[datetime, int]], table: pa.Table
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, thresholds and model versions when the champion changes at ``switches`` (time, version)."""
    times = table.column("event_time")
    scores = np.zeros(table.num_rows)
    thresholds = np.zeros(table.num_rows)
    versions = np.zeros(table.num_rows, dtype=np.int64)
    bounds = [*switches, (datetime.max.replace(tzinfo=switches[0][0].tzinfo), -1)]
    for (since, version), (until, _) in itertools.pairwise(bounds):
        mask = pc.and_(
            pc.greater_equal(times, pa.scalar(since, times.type)),
            pc.less(times, pa.scalar(until, times.type)),
        ).to_numpy(zero_copy_only=False)
        if mask.any():
            bundle = bundles[version]
            scores[mask] = score_table(bundle, table.filter(pa.array(mask)))
            thresholds[mask] = bundle.threshold
            versions[mask] = version
    return scores, thresholds, versions


def _weekly(
    ws: Workspace, policy: LoopPolicy, first: ModelBundle, start: datetime, cfg: DemoConfig, console: Console
) -> tuple[list[tuple[datetime, int]], dict[int, ModelBundle], int]:
    """Run the loop with only a weekly schedule trigger, in its own workspace, on the same clock."""
    ws.ensure()
    reg = Registry(ws)
    info = reg.register(
        first.path, params={"origin": "demo initial champion"}, metrics={}, set_alias="champion"
    )
    first_now = start + timedelta(days=cfg.first_train_day)
    weekday = first_now.isoweekday() % 7
    weekly = policy.model_copy(deep=True)
    weekly.triggers.drift.enabled = False
    weekly.triggers.performance.enabled = False
    weekly.triggers.schedule.enabled = True
    weekly.triggers.schedule.cron = f"0 0 * * {weekday}"
    weekly.triggers.cooldown_hours = 24
    loop = Loop(ws, weekly)
    switches = [(first_now, int(info.version))]
    bundles = {int(info.version): reg.load_bundle(policy.model, int(info.version))}
    retrains = 0
    for d in range(cfg.first_train_day, cfg.days):
        now = start + timedelta(days=d + 1)
        for e in loop.step(now=now):
            retrains += e.kind == "retrain"
            if e.kind == "promotion":
                v = int(e.evidence["version"])
                bundles[v] = reg.load_bundle(policy.model, v)
                switches.append((now, v))
                console.print(f"  weekly policy: day {d + 1} promoted v{v}")
    return switches, bundles, retrains


def compare_policies(
    ws: Workspace,
    world: Path,
    start: datetime,
    cfg: DemoConfig,
    policy: LoopPolicy,
    *,
    triggered_log: PredictionLog,
    console: Console,
) -> list[PolicyRun]:
    """Daily PR-AUC and cost of each policy on days ``first_train_day..days`` with ground-truth labels."""
    table = _period_rows(world, start, cfg.first_train_day, cfg.days)
    y = table.column("is_fraud").to_numpy().astype(np.int64)
    amounts = table.column("amount").to_numpy(zero_copy_only=False).astype(np.float64)
    day = np.array([t.strftime("%Y-%m-%d") for t in table.column("event_time").to_pylist()])
    reg = Registry(ws)
    versions = sorted(int(v.version) for v in reg.versions("fraud"))
    first = reg.load_bundle("fraud", versions[0])
    costs = Costs.recorded(first.meta.costs, first.meta.lineage.get("config"))  # what thresholds minimise
    first_now = start + timedelta(days=cfg.first_train_day)

    runs: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, list[str], int]] = []
    s, t, v = _champion_per_day({versions[0]: first}, [(first_now, versions[0])], table)
    runs.append(("never retrain", s, t, v, [], 0))

    if cfg.compare:
        switches, bundles, retrains = _weekly(
            Workspace(ws.root / "weekly"), policy, first, start, cfg, console
        )
        s, t, v = _champion_per_day(bundles, switches, table)
        runs.append(("weekly schedule", s, t, v, [w.isoformat() for w, _ in switches[1:]], retrains))

    logged = triggered_log.read(
        start, start + timedelta(days=cfg.days + 1), ["transaction_id", "score", "threshold", "model_version"]
    )
    order = {tid: i for i, tid in enumerate(logged.column("transaction_id").to_pylist())}
    idx = np.array([order.get(tid, -1) for tid in table.column("transaction_id").to_pylist()])
    if (idx < 0).any():
        console.print(f"[yellow]{int((idx < 0).sum())} replayed transactions missing from the log")
    idx = np.where(idx < 0, 0, idx)
    s = logged.column("score").to_numpy()[idx]
    t = logged.column("threshold").to_numpy()[idx]
    mv = logged.column("model_version").to_numpy()[idx]
    changes = [
        table.column("event_time")[i].as_py().isoformat() for i in np.flatnonzero(np.diff(mv) != 0) + 1
    ]
    retrained = len(EventStore(ws).read(kind=["retrain"], model=policy.model))  # promoted or not
    runs.append(("shopml triggered", s, t, mv.astype(np.int64), changes, retrained))

    swap = next((c for c in changes if c >= (start + timedelta(days=cfg.onset)).isoformat()), None)
    periods = _periods(day, start, cfg, swap)
    hours = table.column("event_time").to_numpy().astype("datetime64[h]")
    after_onset = day >= (start + timedelta(days=cfg.onset)).strftime("%Y-%m-%d")
    out = []
    for i, (name, scores, thr, mvs, promos, n) in enumerate(runs):
        outcome = daily_outcome(name, day, y, scores, thr, amounts, costs)
        outcome.promotions, outcome.retrains = promos, n
        pm = {p: period_metrics(m, y, scores, thr, amounts, costs, k) for p, (m, k) in periods.items()}
        vs = None if i == 0 else _vs_never(y, runs[0][1], scores, hours, after_onset, mvs)
        out.append(PolicyRun(name=name, outcome=outcome, periods=pm, vs_never=vs))
    return out


def _periods(
    day: np.ndarray, start: datetime, cfg: DemoConfig, swap: str | None
) -> dict[str, tuple[np.ndarray, int]]:
    onset = (start + timedelta(days=cfg.onset)).strftime("%Y-%m-%d")
    end = (start + timedelta(days=cfg.days)).strftime("%Y-%m-%d")
    cut = swap[:10] if swap else end
    n_days = len(set(day.tolist()))

    def span(a: str, b: str) -> tuple[np.ndarray, int]:
        m = (day >= a) & (day < b)
        return m, len(set(day[m].tolist())) or n_days

    return {"before drift": span("", onset), "during drift": span(onset, cut), "after swap": span(cut, end)}
