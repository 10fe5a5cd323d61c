"""The monitor's expected cost is the cost the threshold was chosen on: one Costs, recorded in the bundle
at training, read back by the monitor."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shopml.logstore import ingest_labels, write_predictions
from shopml.monitor import run_monitor
from shopml.registry import ModelBundle
from shopml.stats import Costs
from shopml.train import choose_threshold, load_dataset, preset, time_split, train

UTC_US = pa.timestamp("us", tz="UTC")


def _transactions(n: int, days: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    t = start + np.sort(rng.integers(0, days * 86_400_000_000, n)).astype("timedelta64[us]")
    amount = np.round(rng.lognormal(3.5, 1.0, n), 2)
    country = rng.choice(["DE", "FR", "US"], n)
    new_device = rng.random(n) < 0.2
    logit = -4.0 + 2.5 * new_device + 0.6 * (np.log(amount) - 3.5) + 1.0 * (country == "US")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pa.table(
        {
            "transaction_id": [f"t{i:06d}" for i in range(n)],
            "event_time": pa.array(t, type=UTC_US),
            "amount": amount,
            "country": country,
            "is_new_device": new_device,
            "is_fraud": y,
            "label_available_at": pa.array(t + np.timedelta64(1, "h"), type=UTC_US),
        }
    )


def test_monitored_expected_cost_equals_the_cost_the_threshold_minimised(tmp_path: Path) -> None:
    table = _transactions(6000, 30)
    costs = Costs(false_positive=3.0, amount_column="amount")
    cfg = preset(
        "fraud",
        tmp_path,
        objective="cost",
        costs=costs.model_dump(),
        model={"n_estimators": 30, "max_depth": 3, "n_jobs": 1},
        search={"n_trials": 1},
        n_resamples=20,
        learning_curve_sizes=[1.0],
        split={"gap_days": 0.5, "test_gap_days": 0.5},
        parity_rows=100,
    )
    result = train(cfg, table=table, out_dir=tmp_path / "bundle", register=False)
    bundle = ModelBundle.load(result.bundle_dir)
    assert bundle.meta.costs == costs  # recorded at training

    # the rows the threshold was chosen on, and the cost it minimised there
    ds = load_dataset(cfg, table)
    rows = time_split(ds.times, ds.y, cfg.split, ds.label_times).valid
    valid = ds.table.take(pa.array(rows))
    scores = result.model.scores(ds.frame.iloc[rows])
    amounts = valid.column("amount").to_numpy()
    choice = choose_threshold(
        scores, ds.y[rows], "cost", costs=bundle.meta.costs, fn_costs=costs.miss_costs(rows.size, amounts)
    )
    assert choice.threshold == pytest.approx(bundle.threshold)

    # the monitor's path: these predictions logged with the bundle's decisions, their labels ingested
    ws, n = tmp_path / "ws", rows.size
    times = valid.column("event_time")
    preds = pa.table(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "ts": times,
            "model": ["fraud"] * n,
            "model_version": np.ones(n, np.int64),
            "score": scores,
            "decision": (scores >= bundle.threshold).astype(np.int8),
            "threshold": np.full(n, bundle.threshold),
            "latency_ms": np.ones(n),
            "amount": amounts,
            "country": valid.column("country"),
            "is_new_device": valid.column("is_new_device"),
            "transaction_id": valid.column("transaction_id"),
            "event_time": times,
        }
    )
    write_predictions(ws, "fraud", preds)
    labels = valid.select(["transaction_id", "is_fraud"]).append_column("label_available_at", times)
    ingest_labels(ws, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    last = times.to_pylist()[-1]
    now = last + timedelta(days=1)
    span = f"{(now - times.to_pylist()[0]).days + 1}d"  # one window holds every row
    report = run_monitor(ws, "fraud", span, now, bundle=bundle, history=1, write=False, html=False)
    window = report.windows[-1]
    assert window.rows == n and window.realised is not None
    monitored = window.realised["expected_cost"].value
    assert monitored * n == pytest.approx(choice.value, rel=1e-5)
    # ...and not the cost of a different model (the old monitor default: false alarm 1, miss 10)
    other = Costs(false_positive=1.0, false_negative=10.0).total(ds.y[rows], scores >= bundle.threshold)
    assert abs(other - choice.value) > 0.01 * choice.value


def test_window_metrics_price_misses_per_row_like_costs() -> None:
    from shopml.monitor.performance.metrics import SortedScores

    rng = np.random.default_rng(0)
    s = rng.random(400)
    y = (rng.random(400) < s).astype(np.float32)
    d = s >= 0.6
    amounts = rng.gamma(2.0, 30.0, 400)
    costs = Costs(false_positive=4.0, amount_column="amount")
    sorted_ = SortedScores(s, d, costs.miss_costs(400, amounts))
    got = sorted_.metrics(y[sorted_.order][None, :], None, costs)["expected_cost"][0]
    assert got == pytest.approx(costs.expected_cost(y, d, amounts=amounts), rel=1e-5)
