"""Fixtures: a small synthetic transactions-like table with the simulator's column names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shopml.train import TrainConfig, preset


def make_transactions(n: int = 4000, days: int = 40, seed: int = 0, fraud_rate: float = 0.05) -> pa.Table:
    """Transactions with a learnable, nonlinear fraud signal, nulls and a label delay."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "us")
    t = start + np.sort(rng.integers(0, days * 86_400_000_000, n)).astype("timedelta64[us]")
    amount = np.round(rng.lognormal(3.5, 1.0, n), 2)
    country = rng.choice(["DE", "FR", "NL", "US"], n, p=[0.4, 0.3, 0.2, 0.1])
    ip_country = np.where(rng.random(n) < 0.85, country, rng.choice(["DE", "FR", "NG", "RU"], n))
    device = rng.choice(["mobile", "desktop", "tablet"], n)
    new_device = rng.random(n) < 0.2
    age = rng.exponential(300, n)
    hour = (t.astype("datetime64[h]").astype(np.int64) % 24).astype(np.int64)
    avg30 = np.where(rng.random(n) < 0.1, np.nan, amount * rng.lognormal(0, 0.5, n))
    logit = (
        -5.5
        + 3.0 * (ip_country != country)
        + 2.0 * new_device
        + 1.5 * (age < 30)
        + 2.0 * ((hour < 5) & (amount > 60))
        + 1.0 * np.isnan(avg30)
        + np.log(fraud_rate / 0.05)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    delay_days = np.where(y == 1, rng.uniform(2, 6, n), 3.0)
    label_at = t + (delay_days * 86_400_000_000).astype("timedelta64[us]")
    tz = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "transaction_id": [f"t{i:07d}" for i in range(n)],
            "customer_id": [f"c{i % 500:05d}" for i in range(n)],
            "event_time": pa.array(t, type=tz),
            "amount": amount,
            "currency": np.where(country == "US", "USD", "EUR"),
            "country": country,
            "ip_country": ip_country,
            "payment_method": rng.choice(["card", "paypal", "klarna"], n),
            "device_type": device,
            "is_new_device": new_device,
            "account_age_days": age,
            "hour": hour,
            "amount_avg_30d": pa.array(avg30, from_pandas=True),
            "is_fraud": y,
            "fraud_pattern": np.where(y == 1, "card_testing", "none"),
            "label_available_at": pa.array(label_at, type=tz),
        }
    )


def small_config(data_dir: Path, **overrides: object) -> TrainConfig:
    """The fraud preset, shrunk so a run takes seconds."""
    base: dict[str, object] = {
        "model": {"n_estimators": 40, "max_depth": 4, "early_stopping_rounds": 10, "n_jobs": 1},
        "search": {"n_trials": 2},
        "bootstrap": 50,
        "learning_curve_sizes": [0.5, 1.0],
        "split": {"gap_days": 0.5},
        "parity_rows": 300,
    }
    base.update(overrides)
    return preset("fraud", data_dir, **base)


@pytest.fixture(name="small_config", scope="session")
def small_config_fixture() -> Callable[..., TrainConfig]:
    """``small_config(data_dir, **overrides)``: the fraud preset shrunk for tests."""
    return small_config


@pytest.fixture(name="make_transactions", scope="session")
def make_transactions_fixture() -> Callable[..., pa.Table]:
    """``make_transactions(n, days, seed, fraud_rate)``: a fresh synthetic table."""
    return make_transactions


@pytest.fixture(scope="session")
def transactions() -> pa.Table:
    """4000 synthetic transactions over 40 days, ~5% fraud."""
    return make_transactions()


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory, transactions: pa.Table) -> Path:
    """A simulator-like folder: ``transactions/date=.../part-0.parquet``."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("sim")
    days = pc.strftime(transactions.column("event_time"), format="%Y-%m-%d").to_numpy(zero_copy_only=False)
    for day in np.unique(days):
        part = root / "transactions" / f"date={day}"
        part.mkdir(parents=True)
        pq.write_table(transactions.filter(pa.array(days == day)), part / "part-0.parquet")
    return root
