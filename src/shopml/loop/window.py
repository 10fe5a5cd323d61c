"""Point-in-time data for a retrain at ``now``: the training window and the gate's holdout period.

Only what was known at ``now`` is used: rows that happened by ``now`` and, for their label, only labels
that had arrived (``label_available_at <= now``). Rows whose label is still pending are left out, or taken
as negative ("no chargeback yet") with ``pending_labels: negative`` where the model kind says what a
missing label means (binary: a negative; :attr:`shopml.kinds.LabelSpec.missing_after_maturity`);
``min_label_age_days`` leaves out rows too young for that to be a fair guess.

The holdout is the most recent *matured* period: ``[now - maturity - holdout_days, now - maturity)``,
extended back a day at a time up to ``max_holdout_days`` while it holds fewer than the gate's
``min_positives`` known positives (a kind with a rare positive class) or labelled rows (other kinds).
The training window never contains it; rows after it (newer, partly labelled) may train.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shopml.errors import ConfigError, DataError, InsufficientDataError
from shopml.kinds import ModelKind, get_kind
from shopml.loop.delay import arrival_curve, arrival_weights
from shopml.loop.policy import DataPolicy, GatePolicy, LabelDelayPolicy, WindowPolicy

__all__ = ["Split", "count_new_labels", "load_known", "split_at"]


def _dataset(path: Path) -> ds.Dataset:
    if not path.exists():
        raise DataError(f"loop data {path} does not exist (set data.path in the loop policy)")
    fmt = (
        "csv" if path.suffix == ".csv" or (path.is_dir() and not any(path.rglob("*.parquet"))) else "parquet"
    )
    return ds.dataset(path, format=fmt, partitioning="hive")


def _check_columns(table_cols: list[str], data: DataPolicy, path: Path) -> None:
    missing = [c for c in (data.time_column, data.label_time_column, data.target) if c not in table_cols]
    if missing:
        raise DataError(f"loop data {path}: missing columns {missing} (have {table_cols})")


def load_known(data: DataPolicy, now: datetime, since: datetime | None = None) -> pa.Table:
    """Rows with ``since <= event time <= now`` (labels not yet filtered)."""
    if data.path is None:
        raise DataError("the loop policy names no data.path to train on")
    dataset = _dataset(Path(data.path))
    _check_columns(dataset.schema.names, data, Path(data.path))
    t = ds.field(data.time_column)
    cond = t <= pa.scalar(now, pa.timestamp("us", "UTC"))
    if since is not None:
        cond = cond & (t >= pa.scalar(since, pa.timestamp("us", "UTC")))
    table = dataset.to_table(filter=cond)
    drop = [c for c in table.column_names if c == "date"]
    return table.drop_columns(drop) if drop else table


def count_new_labels(data: DataPolicy, since: datetime | None, now: datetime) -> int:
    """How many labels arrived in ``(since, now]``."""
    if data.path is None:
        return 0
    dataset = _dataset(Path(data.path))
    la = ds.field(data.label_time_column)
    cond = la <= pa.scalar(now, pa.timestamp("us", "UTC"))
    if since is not None:
        cond = cond & (la > pa.scalar(since, pa.timestamp("us", "UTC")))
    return int(dataset.count_rows(filter=cond))


def _labelled(
    table: pa.Table, data: DataPolicy, now: datetime, pending: str, kind: ModelKind | None = None
) -> pa.Table:
    arrived = pc.less_equal(table.column(data.label_time_column), pa.scalar(now, pa.timestamp("us", "UTC")))
    arrived = pc.fill_null(arrived, False)
    if pending == "drop":
        return table.filter(arrived)
    k = kind or get_kind("binary")
    missing = k.label.missing_after_maturity
    if missing is None:
        raise ConfigError(
            f"window.pending_labels 'negative' needs a kind whose missing label means something (binary: no"
            f" chargeback came); a {k.name} model's pending rows stay unknown: use pending_labels: drop"
        )
    target = table.column(data.target)
    known = pc.if_else(arrived, target, pa.scalar(missing).cast(target.type))
    return table.set_column(table.column_names.index(data.target), data.target, known)


def _support(table: pa.Table, data: DataPolicy, kind: ModelKind | None = None) -> int:
    """The labelled rows a metric rests on: the positives of a kind with a rare positive class (binary),
    every labelled row otherwise."""
    target = table.column(data.target)
    if not (kind or get_kind("binary")).rare_class:
        return int(len(target) - target.null_count)
    return int(pc.sum(pc.cast(target, pa.int64())).as_py() or 0)


def _support_name(kind: ModelKind | None) -> str:
    return "positives" if (kind or get_kind("binary")).rare_class else "labelled rows"


@dataclass(frozen=True)
class Split:
    """The point-in-time training rows (with their weights: recency times label delay) and the holdout
    rows of one retrain (with their label-delay weights, all 1 without a correction)."""

    train: pa.Table
    weights: np.ndarray
    holdout: pa.Table
    holdout_start: datetime
    holdout_end: datetime
    train_start: datetime | None
    holdout_weights: np.ndarray | None = None
    label_delay: dict[str, object] | None = None

    def describe(self) -> dict[str, object]:
        """Row and positive counts and period bounds, for reports and events."""
        return {
            "train_rows": self.train.num_rows,
            "train_start": self.train_start.isoformat() if self.train_start else None,
            "holdout_rows": self.holdout.num_rows,
            "holdout_start": self.holdout_start.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            **({"label_delay": self.label_delay} if self.label_delay else {}),
        }


def split_at(
    table: pa.Table,
    data: DataPolicy,
    window: WindowPolicy,
    gate: GatePolicy,
    now: datetime,
    delay: LabelDelayPolicy | None = None,
    kind: ModelKind | None = None,
) -> Split:
    """Cut ``table`` (rows up to ``now``) into the training window and the matured holdout; ``delay``
    reweights arrived positives for the labels still to come (both parts); ``kind`` (default binary)
    says what a pending label means and what the holdout and window must hold."""
    _check_columns(table.column_names, data, Path(str(data.path)))
    ts_type = pa.timestamp("us", "UTC")
    holdout_end = now - timedelta(days=gate.label_maturity_days)
    times = table.column(data.time_column)
    days = gate.holdout_days
    while True:  # extend back a day at a time (up to max_holdout_days) until the gate has its positives
        holdout_start = holdout_end - timedelta(days=days)
        in_holdout = pc.and_(
            pc.greater_equal(times, pa.scalar(holdout_start, ts_type)),
            pc.less(times, pa.scalar(holdout_end, ts_type)),
        )
        holdout = _labelled(table.filter(in_holdout), data, now, window.pending_labels, kind)
        if days + 1 > gate.max_holdout_days or _support(holdout, data, kind) >= gate.min_positives:
            break
        days += 1
    train_start = None if window.kind != "sliding" else now - timedelta(days=window.days)
    keep = pc.invert(in_holdout)
    if window.min_label_age_days > 0:  # rows too young for their label to mean much are left out
        youngest = now - timedelta(days=window.min_label_age_days)
        keep = pc.and_(keep, pc.less_equal(times, pa.scalar(youngest, ts_type)))
    if train_start is not None:
        keep = pc.and_(keep, pc.greater_equal(times, pa.scalar(train_start, ts_type)))
    train = _labelled(table.filter(keep), data, now, window.pending_labels, kind)
    weights = np.ones(train.num_rows)
    if window.kind == "weighted" and train.num_rows:
        event_us = pc.cast(train.column(data.time_column), pa.int64()).to_numpy(zero_copy_only=False)
        age_days = (int(now.timestamp() * 1e6) - event_us) / 86_400e6
        weights = np.power(0.5, np.clip(age_days, 0, None) / window.half_life_days)
    delay = delay or LabelDelayPolicy()
    curve = arrival_curve(table, data, now, delay.horizon_days) if delay.correction != "none" else None
    train_delay, info = arrival_weights(train, data, now, delay, table, curve)
    holdout_delay, _ = arrival_weights(holdout, data, now, delay, table, curve)
    weights = weights * train_delay
    positives = _support(train, data, kind)
    if train.num_rows < window.min_rows or positives < window.min_positives:
        what = _support_name(kind)
        raise InsufficientDataError(
            f"training window at {now.isoformat()} holds {train.num_rows} labelled rows and"
            f" {positives} {what}; need {window.min_rows} rows and {window.min_positives} {what}"
        )
    label_delay = info if delay.correction != "none" else None
    return Split(train, weights, holdout, holdout_start, holdout_end, train_start, holdout_delay, label_delay)
