"""Statistical properties of the baseline world: base rates, daily/weekly cycles, holiday peaks."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow.compute as pc
from scipy import stats
from tests.simulate.conftest import World, day_index, read


def test_base_rates_within_tolerance_over_seeds(world: World) -> None:
    fraud = txns = returns = orders = 0
    patterns: dict[str, int] = {}
    for seed in range(4):
        r = world(days=21, customers=3000, seed=100 + seed)
        fraud, txns = fraud + r.fraud, txns + r.rows["transactions"]
        returns, orders = returns + r.high_value_returns, orders + r.rows["orders"]
        assert set(r.fraud_patterns) == {"card_testing", "account_takeover", "friendly_fraud"}
        for name, count in r.fraud_patterns.items():
            patterns[name] = patterns.get(name, 0) + count
    # ~4 card-testing bursts per small world: one world may have none, the four together must not
    assert min(patterns.values()) > 10
    assert 0.004 < fraud / txns < 0.006  # default 0.5%
    assert 0.016 < returns / orders < 0.024  # default 2%


def test_fraud_and_return_rates_are_configurable(world: World) -> None:
    r = world(days=14, customers=3000, seed=3, fraud_rate=0.02, return_rate=0.05)
    assert 0.016 < r.fraud_rate < 0.024
    assert 0.04 < r.return_rate < 0.06


def test_daily_cycle(world: World) -> None:
    tx = read(world(days=28, customers=4000, seed=1), "transactions")
    hours = np.bincount(tx["hour"].to_numpy(), minlength=24)
    assert stats.chisquare(hours).pvalue < 1e-12
    assert hours[19:22].mean() > 5 * hours[2:5].mean()  # evenings busy, nights quiet


def test_weekly_cycle(world: World) -> None:
    r = world(days=28, customers=4000, seed=1)
    tx = read(r, "transactions")
    per_day = np.bincount(day_index(tx, r), minlength=28)
    weekday = np.array([(r.params.start + timedelta(days=d)).weekday() for d in range(28)])  # 0 = Monday
    sunday, tuesday = per_day[weekday == 6], per_day[weekday == 1]
    assert sunday.min() > tuesday.max()
    assert sunday.mean() > 1.15 * tuesday.mean()


def test_black_friday_peak(world: World) -> None:
    r = world(days=21, customers=3000, seed=2, start=date(2025, 11, 10))
    tx = read(r, "transactions")
    per_day = np.bincount(day_index(tx, r), minlength=21)
    black_friday = (date(2025, 11, 28) - r.params.start).days
    other_fridays = [(date(2025, 11, 14) - r.params.start).days, (date(2025, 11, 21) - r.params.start).days]
    assert per_day[black_friday] > 1.5 * per_day[other_fridays].mean()
    amounts = tx["amount"].to_numpy()
    assert pc.sum(tx["is_fraud"]).as_py() > 0 and np.isfinite(amounts).all()


def test_amounts_are_log_normal_per_category(world: World) -> None:
    tx = read(world(days=28, customers=4000, seed=1), "transactions")
    eur = pc.equal(tx["currency"], "EUR")
    legit = pc.and_(pc.equal(tx["is_fraud"], 0), eur)
    for category, median in (("electronics", 140.0), ("groceries", 38.0), ("travel", 260.0)):
        mask = pc.and_(legit, pc.equal(tx["merchant_category"], category))
        a = tx.filter(mask)["amount"].to_numpy()
        assert 0.7 * median < np.median(a) < 1.5 * median
        assert abs(stats.skew(np.log(a))) < 0.5  # roughly symmetric in log space
