"""The end-to-end demo: simulate a shop, train the first champion, serve it for real, replay the later
traffic over HTTP day by day with labels arriving on their delays, monitor, let the loop retrain and
promote (the server hot-swaps), then compare three retraining policies and write the dashboard.

All of it runs in its own workspace folder ``WORKSPACE/demo`` (recreated on each run).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.dataset as ds
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from shopml.config import Workspace
from shopml.dashboard import PolicySeries, collect_dashboard, write_dashboard
from shopml.demo.compare import PolicyRun, compare_policies
from shopml.demo.replay import replay_table, to_instances
from shopml.demo.server import ServerProcess
from shopml.journal.events import Event
from shopml.loop import Loop, LoopPolicy
from shopml.monitor import PredictionLog, ingest_labels, run_monitor
from shopml.registry import Registry

__all__ = ["DemoConfig", "DemoResult", "run_demo"]

#: Training settings for the demo's models: the production pipeline, a smaller budget, and the threshold
#: that minimises the cost the demo reports (missed fraud amount + friction per false alarm).
FAST_TRAIN: dict[str, Any] = {
    "seed": 42,
    "objective": "cost",
    "search": {"n_trials": 1},
    "n_resamples": 100,
    "learning_curve_sizes": [0.5, 1.0],
    "parity_rows": 300,
    # regularised: with one search trial the defaults (depth 6, min_child_weight 1) fit the ~250 frauds of
    # the first period too closely (train-validation gap 21%, "overfit"); these fit well at the same PR-AUC
    "model": {"n_estimators": 150, "max_depth": 4, "min_child_weight": 5.0, "reg_lambda": 5.0},
}


@dataclass(frozen=True)
class DemoConfig:
    """The simulated world and the replay."""

    scenario: str = "sudden_covariate"
    days: int = 90
    onset: int = 60
    seed: int = 7
    customers: int = 8_000
    first_train_day: int = 42
    batch_size: int = 64
    concurrency: int = 8
    compare: bool = True


@dataclass
class DemoResult:
    """What the demo did and measured."""

    workspace: Path
    dashboard: Path
    timeline: list[str] = field(default_factory=list)
    outcomes: dict[str, Any] = field(default_factory=dict)
    policy_table: list[dict[str, Any]] = field(default_factory=list)
    policies: list[PolicyRun] = field(default_factory=list)
    requests: int = 0
    failed: int = 0
    seconds: float = 0.0


def _day_table(world: Path, day: datetime) -> pa.Table:
    part = world / "transactions" / f"date={day:%Y-%m-%d}"
    return ds.dataset(part, format="parquet").to_table() if part.exists() else pa.table({})


def _labels_arriving(world: Path, day: datetime) -> pa.Table | None:
    part = world / "labels" / "fraud" / f"date={day:%Y-%m-%d}"
    return ds.dataset(part, format="parquet").to_table() if part.exists() else None


def _policy(world: Path, **triggers: Any) -> LoopPolicy:
    return LoopPolicy.model_validate(
        {
            "model": "fraud",
            "task": "fraud",
            "train_config": FAST_TRAIN,
            "data": {"path": str(world / "transactions")},
            # One drifted day is not an episode: a weekend's score mix can cross the relevance floor.
            "triggers": {"cooldown_hours": 48, "drift": {"min_events": 2}, **triggers},
            # Fraud labels mature slowly (chargebacks: weeks). The demo's loop acts within days: rows at
            # least two days old with no chargeback yet count as legit, and every chargeback that has
            # arrived weighs 1 / (share of chargebacks in by its age), so that the newest frauds are not
            # drowned (loop.delay); the gate's holdout is the latest week-old period, grown back until it
            # holds enough frauds to decide, weighted the same way. A challenger must be better with 95%
            # confidence (superior): a merely non-inferior one swapped in on every drift retrain only added
            # variance (the champion changed every other day on sudden_covariate).
            "window": {"kind": "sliding", "days": 35, "pending_labels": "negative", "min_label_age_days": 2},
            "label_delay": {"correction": "arrival_weights"},
            "gate": {"label_maturity_days": 7, "holdout_days": 5, "max_holdout_days": 21, "mode": "superior"},
        }
    )


def _wait_logged(
    log: PredictionLog, start: datetime, end: datetime, expected: int, timeout_s: float = 10
) -> int:
    """Wait for the server's background writer to flush a replayed day (it does so at least every second)."""
    deadline = time.monotonic() + timeout_s
    n = 0
    while time.monotonic() < deadline:
        n = log.count(start, end) if log.exists else 0
        if n >= expected:
            return n
        time.sleep(0.1)
    return n


def run_demo(root: Path, cfg: DemoConfig | None = None, console: Console | None = None) -> DemoResult:
    """Run the whole loop; returns the timeline, measured outcomes and the dashboard path."""
    cfg = cfg or DemoConfig()
    out = console or Console()
    t0 = time.monotonic()
    ws = Workspace(root / "demo")
    if ws.root.exists():
        shutil.rmtree(ws.root)
    ws.ensure()
    world = ws.data_dir / "world"

    from shopml.simulate import simulate

    out.rule(f"[bold]1. Simulating {cfg.days} days, scenario {cfg.scenario} from day {cfg.onset}")
    sim = simulate(
        world,
        days=cfg.days,
        seed=cfg.seed,
        scenario=cfg.scenario,
        customers=cfg.customers,
        onset=cfg.onset,
        progress=True,
        console=out,
    )
    start = datetime.combine(sim.params.start, datetime.min.time()).replace(tzinfo=UTC)
    onset_at = start + timedelta(days=cfg.onset)
    out.print(f"{sim.rows['transactions']:,} transactions, fraud rate {sim.fraud_rate:.2%}")

    policy = _policy(world)
    loop = Loop(ws, policy)
    first_now = start + timedelta(days=cfg.first_train_day)
    out.rule(f"[bold]2. Training the first champion on what was known at day {cfg.first_train_day}")
    result = DemoResult(workspace=ws.root, dashboard=ws.reports_dir / "dashboard.html")
    champion = _first_champion(ws, world, first_now, out)
    result.timeline.append(
        f"day {cfg.first_train_day:5.1f}  {'promotion':<11} {'info':<8} v{champion} "
        "trained on the first period is the first champion"
    )
    out.print(result.timeline[-1])

    out.rule("[bold]3. Serving it and replaying the rest of the world over HTTP")
    log = PredictionLog(ws, "fraud", time_column="event_time")
    days = range(cfg.first_train_day, cfg.days)
    with (
        ServerProcess(ws.root) as server,
        httpx.Client(timeout=30.0) as client,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} days"),
            TimeElapsedColumn(),
            console=out,
        ) as bar,
    ):
        task = bar.add_task("replaying days", total=len(days))
        columns = _request_columns(Registry(ws), "fraud")
        for d in days:
            day = start + timedelta(days=d)
            end = day + timedelta(days=1)
            table = _day_table(world, day)
            stats = replay_table(
                client,
                server.url,
                "fraud",
                to_instances(table, columns),
                batch_size=cfg.batch_size,
                concurrency=cfg.concurrency,
            )
            result.requests += stats.requests
            result.failed += stats.failed
            for err in stats.errors:
                out.print(f"[red]request failed:[/] {err}")
            _wait_logged(log, day, end, table.num_rows)
            labels = _labels_arriving(world, day)
            if labels is not None and labels.num_rows:
                ingest_labels(
                    ws, "fraud", labels, label_column="is_fraud", id_column="transaction_id", now=end
                )
            mon = run_monitor(ws, "fraud", "1d", now=end)
            events: list[Event] = list(mon.events) + loop.step(now=end)
            for e in events:
                result.timeline.append(_line(e, start))
                bar.console.print(result.timeline[-1])
                if e.kind == "promotion":
                    waited = server.wait_for_version("fraud", int(e.evidence["version"]))
                    bar.console.print(
                        f"    server now answers with v{e.evidence['version']} "
                        f"(swapped {waited:.1f}s after promotion)"
                    )
            bar.advance(task)

    out.rule("[bold]4. Comparing policies on the same period")
    result.policies = compare_policies(ws, world, start, cfg, policy, triggered_log=log, console=out)
    result.outcomes = _outcomes(result, cfg)
    result.policy_table = _policy_table(result.policies)
    data = collect_dashboard(ws, "fraud", initial_champion=(int(champion), first_now.isoformat()))
    data.scenario, data.drift_onset = cfg.scenario, onset_at.isoformat()
    data.outcomes, data.policy_table = result.outcomes, result.policy_table
    data.policies = [
        PolicySeries(
            name=p.name,
            days=p.outcome.days,
            pr_auc=p.outcome.pr_auc,
            cost=p.outcome.cost,
            retrains=p.outcome.promotions,
        )
        for p in result.policies
    ]
    write_dashboard(data, result.dashboard)
    result.seconds = time.monotonic() - t0
    return result


def _first_champion(ws: Workspace, world: Path, now: datetime, out: Console) -> int:
    """Train the first model with ``shopml.train`` on what was known at ``now`` (labels arrived by then)
    and register it: the first version of a model becomes its champion."""
    from shopml import train as train_api

    ts = pa.scalar(now, pa.timestamp("us", "UTC"))
    known = ds.dataset(world / "transactions", format="parquet", partitioning="hive").to_table(
        filter=(ds.field("event_time") <= ts) & (ds.field("label_available_at") <= ts)
    )
    cfg = train_api.preset("fraud", world, **{**FAST_TRAIN, "name": "fraud", "label_available_column": None})
    with out.status("training the first champion"):
        res = train_api.train(cfg, table=known.drop_columns(["label_available_at"]), workspace=ws)
    test = res.metrics["pr_auc"]
    out.print(
        f"first model: test PR-AUC {test.value:.3f} [{test.low:.3f}, {test.high:.3f}], "
        f"diagnosis {res.diagnosis.verdict}"
    )
    return int(Registry(ws).aliases("fraud")["champion"])


def _request_columns(reg: Registry, model: str) -> list[str]:
    meta = reg.load_bundle(model).meta
    return [*meta.inputs, *(c for c in (meta.id_column, meta.time_column) if c)]


def _line(e: Event, start: datetime) -> str:
    day = (e.ts - start).total_seconds() / 86400
    return f"day {day:5.1f}  {e.kind:<11} {e.severity:<8} {e.summary}"


def _outcomes(result: DemoResult, cfg: DemoConfig) -> dict[str, Any]:
    """Days from onset to the first detection and to the first promotion after it."""
    out: dict[str, Any] = {}
    for line in result.timeline:
        day, kind = float(line.split()[1]), line.split()[2]
        if day >= cfg.onset:
            if kind in ("drift", "performance") and "detection (days after onset)" not in out:
                out["detection (days after onset)"] = round(day - cfg.onset, 1)
            if kind == "promotion" and "promotion (days after onset)" not in out:
                out["promotion (days after onset)"] = round(day - cfg.onset, 1)
    out.setdefault("detection (days after onset)", "none")
    out.setdefault("promotion (days after onset)", "none")
    out["requests"] = result.requests
    out["requests failed"] = result.failed
    return out


def _policy_table(runs: list[PolicyRun]) -> list[dict[str, Any]]:
    """One row per policy: pooled PR-AUC and mean daily cost per period, and how often it retrained."""
    rows = []
    for p in runs:
        row: dict[str, Any] = {"policy": p.name, "retrains": p.outcome.retrains}
        for period, m in p.periods.items():
            pr, cost = m.get("pr_auc"), m.get("cost_per_day")
            row[f"PR-AUC {period}"] = "–" if pr is None else f"{pr:.3f}"
            row[f"cost/day {period}"] = "–" if cost is None else f"{cost:,.0f}"
        vs = p.vs_never
        row["PR-AUC vs never, onset→end [95% CI]"] = (
            "–" if vs is None else f"{vs[0]:+.3f} [{vs[1]:+.3f}, {vs[2]:+.3f}]"
        )
        rows.append(row)
    return rows
