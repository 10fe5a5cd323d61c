"""Each scenario shifts what its drift log claims, and ``none`` shifts nothing (pre vs post windows)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats
from tests.simulate.conftest import World, day_index, read

from shopml.simulate import SimulationResult

BASE = {"days": 28, "customers": 4000, "onset": 14}


def _windows(
    r: SimulationResult, table: str = "transactions", post: tuple[int, int] = (14, 28)
) -> tuple[pa.Table, pa.Table]:
    """Rows before the onset, and rows in the ``post`` days."""
    t = read(r, table)
    day = day_index(t, r)
    return t.filter(pa.array(day < (r.params.onset or 14))), t.filter(
        pa.array((day >= post[0]) & (day < post[1]))
    )


def _chi2_p(a: pa.Table, b: pa.Table, column: str) -> float:
    va, vb = a[column].to_numpy(zero_copy_only=False), b[column].to_numpy(zero_copy_only=False)
    cats = sorted(set(va) | set(vb))
    table = np.array([[np.sum(va == c) for c in cats], [np.sum(vb == c) for c in cats]])
    return float(stats.chi2_contingency(table[:, table.sum(axis=0) > 0]).pvalue)


def _share(t: pa.Table, column: str, value: str) -> float:
    return float(pc.mean(pc.cast(pc.equal(t[column], value), pa.float64())).as_py())


def _events(r: SimulationResult) -> list[dict]:
    log = json.loads((Path(r.out_dir) / "drift_log.json").read_text())
    assert log["scenario"] == r.params.scenario
    return list(log["events"])


def _one_per_customer(t: pa.Table) -> pa.Table:
    """Each customer's first row: rows of one customer share habits, so only these are independent."""
    ids = t["customer_id"].to_numpy(zero_copy_only=False)
    _, first = np.unique(ids, return_index=True)
    return t.take(pa.array(np.sort(first)))


def _incidents(t: pa.Table) -> int:
    """Fraud incidents (a burst or a takeover is one event, not one per row)."""
    f = t.filter(pc.equal(t["is_fraud"], 1))
    day = pc.strftime(f["event_time"], format="%Y-%m-%d")
    return len(
        set(zip(f["customer_id"].to_pylist(), f["fraud_pattern"].to_pylist(), day.to_pylist(), strict=True))
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_none_does_not_shift(world: World, seed: int) -> None:
    r = world(**BASE, seed=seed, scenario="none")
    pre, post = _windows(r)
    assert _events(r) == []
    one_pre, one_post = _one_per_customer(pre), _one_per_customer(post)
    assert stats.ks_2samp(one_pre["amount"].to_numpy(), one_post["amount"].to_numpy()).pvalue > 1e-3
    assert stats.ks_2samp(pre["amount"].to_numpy(), post["amount"].to_numpy()).statistic < 0.03
    for column in ("merchant_category", "country", "ip_country", "payment_method", "device_type"):
        assert _chi2_p(one_pre, one_post, column) > 1e-3, column
    i1, i2 = _incidents(pre), _incidents(post)
    assert stats.chi2_contingency([[i1, pre.num_rows - i1], [i2, post.num_rows - i2]]).pvalue > 1e-3


def test_sudden_covariate_opens_a_new_market(world: World) -> None:
    r = world(**BASE, seed=4, scenario="sudden_covariate")
    pre, post = _windows(r)
    assert _share(pre, "country", "US") == 0.0 and _share(pre, "currency", "USD") == 0.0
    assert 0.15 < _share(post, "country", "US") < 0.4
    assert stats.ks_2samp(pre["amount"].to_numpy(), post["amount"].to_numpy()).pvalue < 1e-6
    us = post.filter(pc.equal(post["country"], "US"))
    assert np.median(us["account_age_days"].to_numpy()) < 30  # new accounts
    (ev, *_) = _events(r)
    assert ev["relationship"] == "P(x)" and {"country", "currency", "amount"} <= set(ev["features"])


def test_gradual_concept_moves_p_y_given_x_not_x(world: World) -> None:
    r = world(**BASE | {"onset": 7, "length": 7}, seed=5, scenario="gradual_concept", magnitude=1.0)
    pre, post = _windows(r)

    def looks_legit(t: pa.Table) -> float:  # share of takeovers from home, on a known device
        ato = t.filter(pc.equal(t["fraud_pattern"], "account_takeover"))
        home = pc.and_(pc.equal(ato["ip_country"], ato["country"]), pc.invert(ato["is_new_device"]))
        return float(pc.mean(pc.cast(home, pa.float64())).as_py())

    assert looks_legit(pre) < 0.3 < 0.8 < looks_legit(post)
    assert stats.ks_2samp(pre["amount"].to_numpy(), post["amount"].to_numpy()).statistic < 0.03
    for column in ("merchant_category", "ip_country"):  # inputs barely move: tiny total variation
        va, vb = (t[column].value_counts().to_pylist() for t in (pre, post))
        pa_, pb_ = ({d["values"]: d["counts"] / t.num_rows for d in v} for v, t in ((va, pre), (vb, post)))
        tv = 0.5 * sum(abs(pa_.get(k, 0) - pb_.get(k, 0)) for k in set(pa_) | set(pb_))
        assert tv < 0.03, column
    (ev,) = _events(r)
    assert ev["relationship"] == "P(y|x)"


def test_seasonal_surges_volume_amounts_and_gifts(world: World) -> None:
    r = world(**BASE | {"onset": 7, "length": 14}, seed=6, scenario="seasonal", magnitude=1.0)
    tx = read(r, "transactions")
    per_day = np.bincount(day_index(tx, r), minlength=28)
    assert per_day[12:16].mean() > 1.6 * per_day[:7].mean()
    day = day_index(tx, r)
    pre, peak = tx.filter(pa.array(day < 7)), tx.filter(pa.array((day >= 11) & (day < 17)))
    assert np.median(peak["amount"].to_numpy()) > 1.15 * np.median(pre["amount"].to_numpy())
    assert _share(peak, "merchant_category", "toys") > 1.3 * _share(pre, "merchant_category", "toys")
    assert all(ev["expected"] for ev in _events(r))


def test_new_category_appears(world: World) -> None:
    r = world(**BASE, seed=7, scenario="new_category")
    for table, column in (("transactions", "merchant_category"), ("orders", "category")):
        pre, post = _windows(r, table)
        assert _share(pre, column, "pet_supplies") == 0.0
        assert 0.07 < _share(post, column, "pet_supplies") < 0.14
    assert {e["table"] for e in _events(r)} == {"transactions", "orders"}


def test_data_quality_unit_change(world: World) -> None:
    r = world(**BASE, seed=8, scenario="data_quality")
    pre, post = _windows(r)
    ratio = np.median(post["amount"].to_numpy()) / np.median(pre["amount"].to_numpy())
    assert 60 < ratio < 160  # cents instead of currency units
    assert pre["amount_avg_30d"].null_count < 0.1 * pre.num_rows
    (ev,) = _events(r)
    assert ev["features"] == ["amount"] and ev["kind"] == "unit_change"


def test_data_quality_null_spike(world: World) -> None:
    r = world(**BASE, seed=9, scenario="data_quality", variant="nulls", magnitude=0.4)
    pre, post = _windows(r)
    assert pre["account_age_days"].null_count == 0
    assert 0.35 < post["account_age_days"].null_count / post.num_rows < 0.45
    (ev,) = _events(r)
    assert ev["features"] == ["account_age_days"] and ev["kind"] == "null_spike"
