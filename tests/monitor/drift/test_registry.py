"""The drift-test registry: one conformance suite over every test, plus the multiple-testing correction."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import ConfigError
from shopml.monitor import TESTS, CategoricalSketch, NumericSketch, adjust_p_values
from shopml.monitor.drift.registry import ColumnData, get_test


def _numeric(x: np.ndarray, exact: bool) -> ColumnData:
    return ColumnData(NumericSketch.from_values(x), x if exact else None)


def _categorical(values: np.ndarray) -> ColumnData:
    return ColumnData(CategoricalSketch.from_values(values.tolist()))


def _pair(kind: str, shift: float, exact: bool, n: int = 2000) -> tuple[ColumnData, ColumnData]:
    rng = np.random.default_rng(0)
    if kind == "numeric":
        return _numeric(rng.normal(0, 1, n), exact), _numeric(rng.normal(shift, 1, n), exact)
    p0 = np.array([0.5, 0.3, 0.2])
    p1 = p0 + np.array([-shift, shift / 2, shift / 2]) * 0.5
    return _categorical(rng.choice(list("abc"), n, p=p0)), _categorical(rng.choice(list("abc"), n, p=p1))


# tests of vectors (mmd) have their own suite: tests/monitor/test_embedding_drift.py
@pytest.mark.parametrize("name", sorted(n for n, t in TESTS.items() if t.kinds & {"numeric", "categorical"}))
@pytest.mark.parametrize("exact", [True, False])
def test_every_test_conforms(name: str, exact: bool) -> None:
    cls = TESTS[name]
    assert cls.kinds and cls.default_threshold > 0 and cls.description
    for kind in sorted(cls.kinds):
        test = get_test(name, kind)
        same = test.score(*_pair(kind, 0.0, exact))
        moved = test.score(*_pair(kind, 0.5, exact))
        assert 0.0 <= same.p_value <= 1.0 and 0.0 <= moved.p_value <= 1.0
        assert moved.p_value < 1e-6 < same.p_value  # rejects a big shift, not an identical draw
        assert moved.effect_size > same.effect_size >= 0.0
        if not cls.uses_p_value:
            assert moved.statistic == moved.effect_size
        ref, cur = _pair(kind, 0.5, exact)
        before = ref.sketch.to_dict()
        assert test.score(ref, cur) == moved  # deterministic
        assert ref.sketch.to_dict() == before  # input not mutated


def test_sketch_ks_is_close_to_exact_within_its_bound() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0, 1, 20_000), rng.lognormal(0.05, 1, 20_000)
    exact = get_test("ks").score(_numeric(a, True), _numeric(b, True))
    sketch = get_test("ks").score(_numeric(a, False), _numeric(b, False))
    assert sketch.error_bound is not None and sketch.method == "sketch"
    assert exact.statistic - sketch.error_bound <= sketch.statistic <= exact.statistic + 1e-12
    wass = get_test("wasserstein")
    w_exact = wass.score(_numeric(a, True), _numeric(b, True))
    w_sketch = wass.score(_numeric(a, False), _numeric(b, False))
    assert w_sketch.error_bound is not None
    assert abs(w_exact.statistic - w_sketch.statistic) <= w_sketch.error_bound


def test_normalised_wasserstein_is_in_sigma_units() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(10, 3, 50_000)
    w = get_test("wasserstein").score(_numeric(a, True), _numeric(a + 0.9, True))
    assert w.statistic == pytest.approx(0.3, abs=0.01)


def test_corrections() -> None:
    p = np.array([0.001, 0.02, 0.03, 0.5])
    assert adjust_p_values(p, "bonferroni").tolist() == pytest.approx([0.004, 0.08, 0.12, 1.0])
    assert adjust_p_values(p, "bh").tolist() == pytest.approx([0.004, 0.04, 0.04, 0.5])
    assert adjust_p_values(p, "none").tolist() == p.tolist()
    assert adjust_p_values([], "bh").size == 0


def test_bad_names_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown drift test 'kss' \(known: \['chi2'"):
        get_test("kss")
    with pytest.raises(ConfigError, match="drift test 'chi2' does not accept numeric columns"):
        get_test("chi2", "numeric")
    with pytest.raises(ConfigError, match="unknown multiple-testing correction 'holm'"):
        adjust_p_values([0.1], "holm")
