"""Fixtures shared by the kinds tests (and the monitor/loop tests of kinds): tiny tabular tables with a
time column, and a trained, registered multiclass and regression bundle.

``trained_multiclass`` / ``trained_regression`` (session scope): a :class:`TrainedKind` with the
workspace (registry with version 1 as champion), the model name, the bundle folder, the training table
and config. Tests must not modify the workspace; copy it (``shutil.copytree``) to change it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.train import TrainConfig

__all__ = ["TrainedKind", "diabetes_table", "kind_config", "wine_table"]

START = np.datetime64("2025-03-01T00:00:00", "us")
HOURS = np.timedelta64(3_600_000_000, "us")


def _times(n: int, rng: np.random.Generator, hours_apart: float) -> pa.Array:
    t = START + (np.sort(rng.uniform(0, n * hours_apart, n)) * 3_600_000_000).astype("timedelta64[us]")
    return pa.array(t, type=pa.timestamp("us", tz="UTC"))


def wine_table(seed: int = 0, repeat: int = 3, noise: float = 0.05) -> pa.Table:
    """scikit-learn's wine data (3 cultivars, 13 measurements) shuffled onto a time axis, ``repeat`` times
    with ``noise`` (relative jitter) so that every period holds every class; plus a categorical ``shop``."""
    from sklearn.datasets import load_wine

    data = load_wine()
    rng = np.random.default_rng(seed)
    X = np.vstack([data.data * (1 + noise * rng.standard_normal(data.data.shape)) for _ in range(repeat)])
    names = np.asarray(["barolo", "grignolino", "barbera"])[np.tile(data.target, repeat)]
    order = rng.permutation(len(names))
    cols: dict[str, Any] = {
        n.replace("/", "_"): np.round(X[order, j], 4) for j, n in enumerate(data.feature_names)
    }
    n = len(order)
    cols["shop"] = rng.choice(["north", "south", "web"], n)
    cols["order_id"] = [f"w{i:05d}" for i in range(n)]
    cols["event_time"] = _times(n, rng, 2.0)
    cols["cultivar"] = names[order]
    return pa.table(cols)


def diabetes_table(seed: int = 0) -> pa.Table:
    """scikit-learn's diabetes data (442 patients, disease progression after a year) on a time axis; the
    ``sex`` column as a category."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.target))
    cols: dict[str, Any] = {n: np.round(data.data[order, j], 6) for j, n in enumerate(data.feature_names)}
    cols["sex"] = np.where(data.data[order, 1] > 0, "F", "M")
    n = len(order)
    cols["visit_id"] = [f"d{i:05d}" for i in range(n)]
    cols["event_time"] = _times(n, rng, 3.0)
    cols["progression"] = data.target[order].astype(np.float64)
    return pa.table(cols)


def kind_config(kind: str, path: Path, **overrides: Any) -> TrainConfig:
    """A small config for ``wine_table`` (multiclass) or ``diabetes_table`` (regression) at ``path``."""
    target, id_col, name = {
        "multiclass": ("cultivar", "order_id", "wine"),
        "regression": ("progression", "visit_id", "diabetes"),
    }[kind]
    base: dict[str, Any] = {
        "task": name,
        "kind": kind,
        "table": str(path),
        "target": target,
        "time_column": "event_time",
        "id_column": id_col,
        "model": {"n_estimators": 60, "max_depth": 3, "early_stopping_rounds": 10, "n_jobs": 1},
        "search": {"n_trials": 2},
        "n_resamples": 50,
        "split": {"gap_days": 0.5},
        "parity_rows": 200,
    }
    base.update(overrides)
    return TrainConfig.model_validate(base)


@dataclass(frozen=True)
class TrainedKind:
    """A trained, registered model of one kind."""

    kind: str
    workspace: Path
    name: str
    bundle_dir: Path
    table: pa.Table
    config: TrainConfig
    result: Any


def _trained(kind: str, make: Callable[[], pa.Table], root: Path) -> TrainedKind:
    from shopml.train import train

    table = make()
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data.parquet")
    cfg = kind_config(kind, root / "data.parquet")
    ws = root / "workspace"
    result = train(cfg, workspace=ws)
    return TrainedKind(kind, ws, cfg.model_name, Path(result.bundle_dir), table, cfg, result)


@pytest.fixture(scope="session")
def trained_multiclass(tmp_path_factory: pytest.TempPathFactory) -> TrainedKind:
    """The wine cultivar classifier, trained and registered (champion) in its own workspace."""
    return _trained("multiclass", wine_table, tmp_path_factory.mktemp("multiclass"))


@pytest.fixture(scope="session")
def trained_regression(tmp_path_factory: pytest.TempPathFactory) -> TrainedKind:
    """The diabetes progression regressor, trained and registered (champion) in its own workspace."""
    return _trained("regression", diabetes_table, tmp_path_factory.mktemp("regression"))
