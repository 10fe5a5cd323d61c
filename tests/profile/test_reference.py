"""Reference profiles and their sketches: exactness, merging, JSON round trips, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopml.errors import DataError, NotFoundError, SchemaError
from shopml.monitor import CategoricalSketch, NumericSketch, Profile, build_profile
from shopml.profile.sketch import ALPHA, bucket_keys, bucket_upper
from shopml.schema import FeatureSpec, Schema

SCHEMA = Schema(
    features=(
        FeatureSpec(name="amount", kind="numeric", nullable=True),
        FeatureSpec(name="country", kind="categorical"),
        FeatureSpec(name="is_new_device", kind="boolean"),
        FeatureSpec(name="transaction_id", kind="id"),
    )
)

floats = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False), max_size=30
)


def _table(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "transaction_id": [f"t{i}" for i in range(n)],
            "amount": rng.lognormal(3, 1, n),
            "country": rng.choice(["DE", "FR", "NL"], n),
            "is_new_device": rng.random(n) < 0.2,
        }
    )


def test_quantiles_within_relative_error() -> None:
    x = np.random.default_rng(1).lognormal(2, 1.5, 50_000)
    sk = NumericSketch.from_values(x)
    for q in (0.01, 0.1, 0.5, 0.9, 0.99):
        exact = float(np.quantile(x, q, method="inverted_cdf"))
        assert abs(sk.quantile(q) - exact) <= 2 * ALPHA * abs(exact)


def test_bucket_edges_bound_their_values() -> None:
    x = np.random.default_rng(2).normal(0, 100, 10_000)
    keys = bucket_keys(x)
    order = np.argsort(x)
    assert np.all(np.diff(keys[order]) >= 0)  # keys are monotone in the value
    assert np.all(x <= bucket_upper(keys) * (1 + 1e-12) + 1e-300)


@given(floats, floats, floats)
def test_numeric_merge_is_associative_and_commutative(a: list[float], b: list[float], c: list[float]) -> None:
    sa, sb, sc = (NumericSketch.from_values(np.array(v)) for v in (a, b, c))
    left, right = sa.merge(sb).merge(sc), sa.merge(sb.merge(sc))
    whole = NumericSketch.from_values(np.array(a + b + c))
    for s in (left, right, sc.merge(sb).merge(sa)):
        assert np.array_equal(s.keys, whole.keys) and np.array_equal(s.counts, whole.counts)
        assert (s.min, s.max, s.count) == (whole.min, whole.max, whole.count)
        assert math.isclose(s.total, whole.total, rel_tol=1e-9, abs_tol=1e-6)


@given(
    st.lists(st.sampled_from(["a", "b", "c", None]), max_size=20),
    st.lists(st.sampled_from(["a", "z"]), max_size=20),
)
def test_categorical_merge_equals_whole(a: list[str | None], b: list[str | None]) -> None:
    whole = CategoricalSketch.from_values(a + b)
    assert CategoricalSketch.from_values(a).merge(CategoricalSketch.from_values(b)) == whole
    assert CategoricalSketch.from_values(b).merge(CategoricalSketch.from_values(a)) == whole


def _exact(p: Profile) -> dict[str, object]:
    """The exactly-mergeable part of a profile (float sums only merge up to rounding)."""
    feats = p.to_dict()["features"]
    return {n: {k: v for k, v in d.items() if k not in ("sum", "sum_sq")} for n, d in feats.items()}


@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_profile_merge_is_associative(na: int, nb: int, nc: int) -> None:
    t = _table(na + nb + nc, seed=3)
    parts = [t.slice(0, na), t.slice(na, nb), t.slice(na + nb, nc)]
    pa_, pb, pc_ = (build_profile(p, SCHEMA, sample_size=25, seed=i) for i, p in enumerate(parts))
    left, right = pa_.merge(pb).merge(pc_), pa_.merge(pb.merge(pc_))
    assert _exact(left) == _exact(right)
    assert left.sample == right.sample
    assert left.rows == na + nb + nc
    assert left.sample is not None and left.sample.num_rows == min(25, na + nb + nc)


def test_profile_content_and_json_round_trip(tmp_path: Path) -> None:
    t = _table(500)
    p = build_profile(t, SCHEMA, scores=np.linspace(0, 1, 500), sample_size=100)
    assert set(p.features) == {"amount", "country", "is_new_device"}  # ids are not profiled
    assert p.features["is_new_device"].counts.keys() <= {"true", "false"}  # type: ignore[union-attr]
    assert p.scores is not None and p.scores.count == 500
    assert not p.sample_is_complete and build_profile(t.slice(0, 50), SCHEMA).sample_is_complete
    path = tmp_path / "reference_profile.json"
    p.save(path)
    assert Profile.load(path) == p


def test_score_column_is_picked_up() -> None:
    t = _table(100).append_column("score", pa.array(np.full(100, 0.3)))
    assert build_profile(t, SCHEMA).scores is not None


def test_type_errors_are_counted_not_fatal() -> None:
    t = pa.table(
        {"amount": ["1.5", "12,50", "", None, "3e2"], "country": ["DE"] * 5, "is_new_device": [True] * 5}
    )
    p = build_profile(t, SCHEMA)
    amount = p.features["amount"]
    assert isinstance(amount, NumericSketch)
    assert p.type_errors == {"amount": 1}
    assert (amount.count, amount.nulls, amount.max) == (2, 3, 300.0)


def test_bad_inputs_raise_named_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"lacks input features \['country'\]"):
        build_profile(pa.table({"amount": [1.0], "is_new_device": [True]}), SCHEMA)
    dates = pa.table(
        {"amount": pa.array([0, 1], pa.date32()), "country": ["DE"] * 2, "is_new_device": [True] * 2}
    )
    with pytest.raises(
        SchemaError, match="feature 'amount' is numeric in the schema but has Arrow type date32"
    ):
        build_profile(dates, SCHEMA)
    with pytest.raises(NotFoundError, match=r"nope\.json does not exist"):
        Profile.load(tmp_path / "nope.json")
    with pytest.raises(DataError, match="not a shopml profile"):
        Profile.from_json('{"format": "other"}')
    with pytest.raises(DataError, match="not valid JSON"):
        Profile.from_json("{")
    other = Schema(features=(FeatureSpec(name="amount", kind="numeric"),))
    with pytest.raises(SchemaError, match=r"only in the first \['country', 'is_new_device'\]"):
        build_profile(_table(5), SCHEMA).merge(build_profile(_table(5), other))


def test_empty_table_profiles_cleanly() -> None:
    p = build_profile(_table(0), SCHEMA)
    assert p.rows == 0 and p.features["amount"].count == 0
    assert Profile.from_json(p.to_json()) == p
