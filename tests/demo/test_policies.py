import numpy as np
import pytest

from shopml.demo.policies import daily_outcome, period_metrics
from shopml.stats import Costs

COSTS = Costs(false_positive=5.0, amount_column="amount")


def test_daily_outcome_costs_and_pr_auc() -> None:
    day = np.array(["d1"] * 4 + ["d2"] * 3)
    y = np.array([0, 0, 1, 1, 0, 0, 0])
    s = np.array([0.1, 0.9, 0.8, 0.2, 0.1, 0.6, 0.2])
    thr = np.full(7, 0.5)
    amounts = np.array([10.0, 20.0, 30.0, 40.0, 1.0, 1.0, 1.0])
    out = daily_outcome("p", day, y, s, thr, amounts, COSTS)
    assert out.days == ["d1", "d2"]
    # d1: one false alarm (5) + missed fraud of 40; d2: one false alarm
    assert out.cost == [45.0, 5.0]
    assert out.pr_auc[0] == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)  # precision 1/2 at recall .5, 2/3 at 1
    assert out.pr_auc[1] is None  # a day without positives has no PR-AUC, not a made-up one


def test_period_metrics_empty_and_pooled() -> None:
    y = np.array([0, 1, 0, 1])
    s = np.array([0.1, 0.9, 0.2, 0.8])
    thr = np.full(4, 0.5)
    amounts = np.ones(4)
    none = period_metrics(np.zeros(4, bool), y, s, thr, amounts, COSTS, 1)
    assert none == {"pr_auc": None, "cost_per_day": None}
    pooled = period_metrics(np.ones(4, bool), y, s, thr, amounts, COSTS, 2)
    assert pooled == {"pr_auc": 1.0, "cost_per_day": 0.0}


def test_policy_against_never_retrain_has_a_paired_interval() -> None:
    from shopml.demo.compare import _vs_never

    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.random(n) < 0.05).astype(np.int8)
    hours = (np.arange(n) // 40).astype("datetime64[h]")
    never = rng.normal(size=n) + 0.5 * y
    better = never + 1.5 * y  # the same model plus a clear extra signal on the frauds
    everything = np.ones(n, bool)
    one = np.ones(n, np.int64)
    diff, low, high = _vs_never(y, never, better, hours, everything, one) or (0.0, 0.0, 0.0)
    assert 0 < low < diff < high
    assert _vs_never(y, never, never.copy(), hours, everything, one) == (0.0, 0.0, 0.0)
    assert _vs_never(y, never, better, hours, np.zeros(n, bool), one) is None
    assert _vs_never(np.zeros(n, np.int8), never, better, hours, everything, one) is None
    # a switch to a model that ranks the same but scores on another scale is no loss (per model period)
    switch = (np.arange(n) >= n // 2).astype(np.int64) + 1
    rescaled = np.where(switch == 2, 0.2 * never - 3.0, never)
    diff, low, high = _vs_never(y, never, rescaled, hours, everything, switch) or (1.0, 1.0, 1.0)
    assert diff == 0.0 and low == 0.0 and high == 0.0
