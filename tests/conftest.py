"""Shared fixtures; a synthetic prediction log with delayed labels for the log-store and monitor tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings

from shopml.registry import BundleMeta, ModelBundle

if TYPE_CHECKING:
    from shopml.registry import Registry


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace folder, also exported as SHOPML_WORKSPACE; cwd moved to tmp."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("SHOPML_WORKSPACE", str(ws))
    monkeypatch.chdir(tmp_path)
    return ws


@pytest.fixture
def registered(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A workspace whose own SQLite registry holds 'fraud' v1 (champion), v2 and v3 (challenger)."""
    from shopml.config import Workspace
    from shopml.registry import BundleMeta, Registry, write_bundle

    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    reg = Registry(Workspace(workspace))
    schema = {"features": [{"name": "amount", "kind": "numeric"}, {"name": "is_fraud", "kind": "target"}]}
    for i in range(3):
        meta = BundleMeta(name="fraud", task="fraud", schema=schema, inputs=["amount"], threshold=0.25)
        write_bundle(tmp_path / f"b{i}", meta, b"onnx")
        reg.register(tmp_path / f"b{i}", params={"i": i}, metrics={"test.pr_auc": 0.5 + i / 10, "f1": 0.4})
    return reg


# Deterministic property tests that tolerate a slow, shared CI machine.
settings.register_profile(
    "shopml", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shopml")


START = datetime(2026, 3, 1, tzinfo=UTC)
UTC_US = pa.timestamp("us", tz="UTC")


def synthetic_log(
    n: int,
    days: int,
    seed: int,
    *,
    model: str = "fraud",
    threshold: float = 0.5,
    concept_day: int | None = None,
    shift_day: int | None = None,
    blur_day: int | None = None,
    start: datetime = START,
) -> tuple[pa.Table, pa.Table]:
    """(prediction rows, label rows). Scores are calibrated: y ~ Bernoulli(score); from ``concept_day``
    on the labels ignore the scores (concept drift: same inputs, new relationship); from ``shift_day`` on
    ``amount`` triples (covariate drift); from ``blur_day`` on the scores lose most of their spread."""
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0, days * 86400, n))
    t0 = np.datetime64(start.replace(tzinfo=None), "us")
    event = t0 + (offsets * 1e6).astype("timedelta64[us]")
    amount = rng.lognormal(3.5, 1.0, n)
    if shift_day is not None:
        amount[offsets >= shift_day * 86400] *= 3.0
    country = rng.choice(np.array(["DE", "FR", "NL", "US"]), n, p=[0.5, 0.2, 0.2, 0.1])
    logit = -3.0 + 0.8 * (np.log(amount) - 3.5) + 1.2 * (country == "US") + rng.normal(0, 1.2, n)
    score = 1 / (1 + np.exp(-logit))
    if blur_day is not None:  # the model loses its edge: scores shrink to the mean, still calibrated
        late_rows = offsets >= blur_day * 86400
        score[late_rows] = 0.1 * score[late_rows] + 0.9 * score.mean()
    p_true = score.copy()
    if concept_day is not None:
        late = offsets >= concept_day * 86400
        p_true[late] = rng.permutation(score[late])
    y = (rng.uniform(size=n) < p_true).astype(np.int8)
    delay = np.where(y == 1, rng.uniform(2, 20, n), 14.0)
    ids = pa.array(np.char.add(f"t{seed}-", np.arange(n).astype(str)))
    preds = pa.table(
        {
            "request_id": pa.array(np.char.add(f"r{seed}-", np.arange(n).astype(str))),
            "ts": pa.array(event, UTC_US),
            "model": pa.array(np.full(n, model)),
            "model_version": pa.array(np.ones(n, np.int64)),
            "score": score,
            "decision": pa.array((score >= threshold).astype(np.int8)),
            "threshold": np.full(n, threshold),
            "latency_ms": rng.uniform(0.1, 2.0, n),
            "amount": amount,
            "country": pa.array(country),
            "transaction_id": ids,
            "event_time": pa.array(event, UTC_US),
        }
    )
    avail = event + (delay * 86400e6).astype("timedelta64[us]")
    labels = pa.table(
        {"transaction_id": ids, "is_fraud": pa.array(y), "label_available_at": pa.array(avail, UTC_US)}
    )
    return preds, labels


@pytest.fixture
def synth() -> Callable[..., tuple[pa.Table, pa.Table]]:
    """The :func:`synthetic_log` generator (start 2026-03-01 UTC)."""
    return synthetic_log


@pytest.fixture
def make_bundle(tmp_path: Path) -> Callable[..., ModelBundle]:
    """Write a minimal bundle folder (no ONNX: monitoring reads only bundle.json and the profile)."""

    def make(
        name: str = "fraud", threshold: float = 0.5, metrics: dict[str, float] | None = None
    ) -> ModelBundle:
        schema = {
            "features": [
                {"name": "transaction_id", "kind": "id"},
                {"name": "event_time", "kind": "timestamp"},
                {"name": "amount", "kind": "numeric"},
                {"name": "country", "kind": "categorical"},
                {"name": "is_fraud", "kind": "target"},
            ]
        }
        meta = BundleMeta.model_validate(
            {
                "name": name,
                "task": "fraud",
                "schema": schema,
                "inputs": ["amount", "country"],
                "threshold": threshold,
                "id_column": "transaction_id",
                "time_column": "event_time",
                "target": "is_fraud",
                "metrics": metrics or {},
            }
        )
        bundle = ModelBundle(tmp_path / f"bundle-{name}", meta)
        bundle.save_meta()
        return bundle

    return make
