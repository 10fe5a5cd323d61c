"""Multiclass and regression models under the monitor: train → registry → scoring through the served
ONNX output → prediction log and delayed labels → realised metric family with intervals, no estimate
before labels (output drift instead), output drift against the training reference, the kind's error
stream, and an alert in the kind's direction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopml.config import Settings, Workspace
from shopml.kinds import get_kind
from shopml.logstore import ingest_labels
from shopml.logstore.layout import partition_dir, write_part
from shopml.loop.policy import LoopPolicy
from shopml.loop.scoring import score_table
from shopml.loop.triggers import performance_drop
from shopml.monitor import run_monitor
from shopml.registry import ModelBundle, Registry

from ..kinds.conftest import diabetes_table, kind_config, wine_table

DAY = timedelta(days=1)
SETTINGS = Settings.model_validate(
    {
        "performance": {
            "history": 12,
            "min_labelled": 20,
            "min_rows": 20,
            "min_positives": 20,
            "max_pool": 3,
            "n_bootstrap": 100,
            "block": "1h",
        }
    }
)


@dataclass(frozen=True)
class Served:
    """A trained model of one kind, its log of served predictions and its labels."""

    kind: str
    ws: Workspace
    name: str
    bundle: ModelBundle
    start: datetime  # first logged prediction
    end: datetime  # one past the last


def _jitter(table: pa.Table, copies: int, seed: int, shift: dict[str, float]) -> pa.Table:
    """``copies`` noisy copies of ``table``'s rows, one after the other; from the second copy on the
    numeric columns named in ``shift`` are multiplied by it (inputs that move the outputs, or a target
    whose relation to the inputs changed)."""
    rng = np.random.default_rng(seed)
    parts = []
    for c in range(copies):
        cols: dict[str, Any] = {}
        for name in table.column_names:
            col = table.column(name)
            if pa.types.is_floating(col.type):
                x = col.to_numpy(zero_copy_only=False)
                factor = shift.get(name, 1.0) if c > 0 else 1.0
                cols[name] = x * (1 + 0.02 * rng.standard_normal(x.size)) * factor
            else:
                cols[name] = col
        part = pa.table(cols)
        ids = pc.binary_join_element_wise(part.column(_id(part)), pa.scalar(f"-{seed}-{c}"), "")
        parts.append(part.set_column(part.column_names.index(_id(part)), _id(part), ids))
    return pa.concat_tables(parts)


def _id(table: pa.Table) -> str:
    return "order_id" if "order_id" in table.column_names else "visit_id"


def _log(served: Served, rows: pa.Table, start: datetime, version: int) -> None:
    """Score ``rows`` with the served ONNX output and log them one per 12 minutes from ``start``, in the
    contract-5 layout, with the kind's output columns (what the server records)."""
    n = rows.num_rows
    out = score_table(served.bundle, rows)
    head = get_kind(served.kind).head(served.bundle.meta.model_dump(by_alias=True))
    columns = {"score": head.score(out), **head.log_columns(out)}
    times = np.datetime64(start.replace(tzinfo=None), "us") + np.arange(n) * np.timedelta64(720, "s")
    ts = pa.array(times, pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "request_id": [f"r-{i}" for i in rows.column(_id(rows)).to_pylist()],
            "ts": ts,
            "model": [served.name] * n,
            "model_version": pa.array(np.full(n, version, np.int64)),
            "latency_ms": np.full(n, 1.0),
            **{k: (v.tolist() if np.ndim(v) > 1 else v) for k, v in columns.items()},
            **{c: rows.column(c) for c in rows.column_names if c not in ("event_time",)},
            "event_time": ts,
        }
    )
    days = pc.strftime(ts, format="%Y-%m-%d")
    for day in sorted(pc.unique(days).to_pylist()):
        write_part(
            partition_dir(served.ws.predictions_dir, served.name, day),
            table.filter(pc.equal(days, day)),
        )
    target = served.bundle.meta.target
    assert target is not None
    labels = pa.table(
        {
            _id(rows): rows.column(_id(rows)),
            target: rows.column(target),
            "label_available_at": pa.array(times + np.timedelta64(2, "D"), pa.timestamp("us", tz="UTC")),
        }
    )
    kind = get_kind(served.kind)
    meta = served.bundle.meta.model_dump(by_alias=True)
    ingest_labels(
        served.ws, served.name, labels, label_column=target, id_column=_id(rows), kind=kind, meta=meta
    )


def _served(kind: str, root: Path, shift: dict[str, float] | None = None) -> Served:
    from shopml.train import train

    make = wine_table if kind == "multiclass" else diabetes_table
    table = make()
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data.parquet")
    cfg = kind_config(kind, root / "data.parquet", search={"n_trials": 1}, learning_curve_sizes=[1.0])
    ws = Workspace(root / "workspace").ensure()
    train(cfg, workspace=ws)
    bundle = Registry(ws).load_bundle(cfg.model_name, "champion")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    served = Served(kind, ws, cfg.model_name, bundle, start, start)
    rows = _jitter(table, 2, 1, shift or {})
    _log(served, rows, start, int(bundle.version or 1))
    end = start + rows.num_rows * timedelta(minutes=12)
    return Served(kind, ws, cfg.model_name, bundle, start, end)


@pytest.fixture(scope="module", params=["multiclass", "regression"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Served:
    return _served(str(request.param), tmp_path_factory.mktemp(str(request.param)))


def test_realised_metric_family_with_intervals_once_labels_mature(served: Served) -> None:
    kind = get_kind(served.kind)
    now = served.end  # the last day's labels are still to come
    result = run_monitor(served.ws, served.name, "1d", now, settings=SETTINGS, html=False)
    assert result.kind == kind.name
    matured = [w for w in result.windows if w.realised]
    assert matured and not result.windows[-1].matured  # the newest window waits for its labels
    for w in matured:
        assert w.realised is not None and set(w.realised) == set(kind.metrics)
        m = w.realised[kind.primary_metric]
        assert m.low <= m.value <= m.high and m.level == 0.9
        assert w.positives == w.labelled  # no rare class: every labelled row counts
        assert w.estimated is None  # no estimate before labels for this kind...
    assert result.estimation is not None and "output drift" in result.estimation  # ...the report says so
    assert result.reference["metric"] == kind.primary_metric
    report = result.to_dict()
    assert report["kind"] == kind.name and report["output_drift"][0]["verdict"] == "ok"
    # the stream: multiclass errors are 0/1 (DDM runs too), a regression's scaled errors are not
    detectors = [s.detector for s in result.stream]
    assert detectors == (
        ["adwin", "page_hinkley", "ddm"] if kind.name == "multiclass" else ["adwin", "page_hinkley"]
    )
    assert result.stream[0].n > 0 and 0 <= result.stream[0].error_rate <= 1
    # the outputs of training-like inputs: no output drift (data drift is the drift report's business)
    assert not [e for e in result.events if e.evidence.get("source") == "output"]


def test_output_drift_alerts_in_the_kind_s_terms(tmp_path: Path) -> None:
    """Regression, from the fourth day on: inputs scaled up move the predicted values away from the
    training reference (KS on ``value``), and the disease progresses faster than the model knows (the
    target x 1.6): MAE rises, a realised alert in the lower-is-better direction."""
    shift = {"bmi": 3.0, "s5": 3.0, "bp": 3.0, "progression": 1.6}
    served = _served("regression", tmp_path / "reg", shift)
    result = run_monitor(served.ws, served.name, "1d", served.end, settings=SETTINGS, html=False)
    drifted = [c for c in result.output_drift if c.drifted]
    assert [c.column for c in drifted] == ["value"] and drifted[0].test == "ks"
    kinds = {(e.kind, e.evidence.get("source")) for e in result.events}
    assert ("drift", "output") in kinds
    drift = next(e for e in result.events if e.evidence.get("source") == "output")
    assert drift.evidence["drifted_features"] == ["output:value"]
    realised = [e for e in result.events if e.evidence.get("source") == "realised"]
    assert realised and realised[0].evidence["metric"] == "mae"
    ev = realised[0].evidence
    assert ev["low"] > ev["reference"] and "above" in realised[0].summary
    # ...which the loop's performance trigger reads in the same direction: a retrain fires
    drop = performance_drop(realised[0], LoopPolicy())
    assert drop is not None and drop["metric"] == "mae" and drop["low"] > drop["limit"] > drop["reference"]


def test_report_and_dashboard_show_the_kind_s_metric(served: Served) -> None:
    """The monitor's HTML table has the kind's metric columns; the dashboard plots the metric the
    reports measured (macro-F1, MAE), with realised values on the matured windows."""
    from shopml.dashboard import collect_dashboard, render_dashboard

    kind = get_kind(served.kind)
    result = run_monitor(served.ws, served.name, "1d", served.end, settings=SETTINGS, html=True)
    html = (served.ws.reports_dir / "monitor").glob(f"{served.name}-*.html")
    page = next(iter(html)).read_text(encoding="utf-8")
    assert f"{kind.primary_metric} realised" in page and "pr_auc realised" not in page
    data = collect_dashboard(served.ws, served.name)
    assert data.metric == kind.primary_metric == result.reference["metric"]
    realised = [d.realised for d in data.days if d.realised is not None]
    assert realised and all(np.isfinite(realised))
    title = {"multiclass": "Monitored macro-F1", "regression": "Monitored MAE"}[served.kind]
    assert title in render_dashboard(data)
