"""The customer population is stationary in scenario ``none``: steady sign-ups and churn, no ageing drift."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tests.simulate.conftest import World, day_index, read

from shopml.errors import DataError
from shopml.monitor.drift.compare import compare
from shopml.monitor.drift.config import DriftConfig
from shopml.simulate import SimulationParams
from shopml.simulate.engine import population
from shopml.simulate.world import MEAN_LIFETIME_DAYS, ActiveWeights, build_population


def _shift(a: np.ndarray, b: np.ndarray) -> float:
    """Signed median shift from ``a`` to ``b`` in units of the pooled interquartile range."""
    q25, q75 = np.nanpercentile(np.concatenate([a, b]), [25, 75])
    return float((np.nanmedian(b) - np.nanmedian(a)) / (q75 - q25))


def test_active_population_keeps_its_size_and_age_distribution() -> None:
    p = SimulationParams.build(days=75, customers=200_000, seed=9)
    pop = build_population(p, np.random.default_rng(9))
    sizes, ages = [], []
    for day in (-30, 0, 37, 74):
        active = pop.active_weight(day) > 0
        sizes.append(int(active.sum()))
        ages.append(day - pop.signup_day[active])
    assert max(sizes) / min(sizes) < 1.01  # ~200k active accounts every day
    assert pop.n > 1.1 * 200_000  # people joined (and others churned) along the way
    for later in ages[1:]:
        assert abs(_shift(ages[0], later)) < 0.01
    assert 0.9 < np.median(ages[-1]) / (MEAN_LIFETIME_DAYS * np.log(2)) < 1.1  # exponential ages


def test_customers_transact_only_between_signup_and_churn(world: World) -> None:
    r = world(days=75, customers=4000, seed=31)
    pop = population(r.params)  # the run's own customers
    tx = read(r, "transactions")
    day = day_index(tx, r)
    ids = np.array([int(c[1:]) for c in tx["customer_id"].to_pylist()])
    known = ids < pop.n  # card-testing throwaway accounts are not in the population
    assert known.mean() > 0.99
    ids, day = ids[known], day[known]
    assert (day >= np.floor(pop.signup_day[ids])).all() and (day < pop.churn_day[ids]).all()
    churned = (pop.churn_day > 0) & (pop.churn_day < 45)
    joined = pop.signup_day > 30
    buyers = np.zeros(pop.n, bool)
    buyers[ids] = True
    assert buyers[churned].sum() > 20 and buyers[joined].sum() > 20  # the population turns over


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_none_shows_no_account_age_or_order_count_drift(world: World, seed: int) -> None:
    r = world(days=75, customers=4000, seed=seed)
    cfg = DriftConfig(multivariate=False)
    for table, column in (("transactions", "account_age_days"), ("orders", "customer_order_count")):
        t = read(r, table)
        day = day_index(t, r)
        early = t.select([column]).filter(pa.array(day < 15))
        late = t.select([column]).filter(pa.array((day >= 60) & (day < 75)))
        a = early[column].to_numpy().astype(float)
        b = late[column].to_numpy().astype(float)
        assert abs(_shift(a, b)) < 0.05, (table, column)
        report = compare(early, late, config=cfg)
        assert report.verdict != "drift" and not report.features[0].drifted, (table, column)


def test_incremental_active_weights_equal_the_direct_ones() -> None:
    p = SimulationParams.build(days=40, customers=5000, seed=4, scenario="sudden_covariate", onset=20)
    pop = population(p)
    weights = ActiveWeights(pop, -p.warmup_days)
    for day in (-30, -29, -5, 0, 1, 2, 20, 21, 25, 39):
        np.testing.assert_array_equal(weights.at(day), pop.active_weight(day))
    with pytest.raises(DataError, match="day 3 requested after day 39"):
        weights.at(3)
