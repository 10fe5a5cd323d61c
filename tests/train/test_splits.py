"""Out-of-time splits with gaps and label availability; rolling-origin folds."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import InsufficientDataError
from shopml.train import SplitConfig, rolling_origin, time_split

DAY = np.timedelta64(86_400_000_000, "us")


def _times(n: int, days: int = 30) -> np.ndarray:
    return np.datetime64("2025-01-01", "us") + (np.linspace(0, days, n) * DAY.astype(float)).astype(
        "timedelta64[us]"
    )


def test_periods_are_ordered_with_gaps() -> None:
    t = _times(3000)
    y = (np.arange(3000) % 20 == 0).astype(int)
    s = time_split(t, y, SplitConfig(valid_fraction=0.2, test_fraction=0.2, gap_days=1.5, test_gap_days=4))
    assert t[s.train].max() < t[s.valid].min() - 1.5 * DAY + np.timedelta64(1, "us")
    assert t[s.valid].max() < t[s.test].min() - 4 * DAY + np.timedelta64(1, "us")
    assert s.valid.size == pytest.approx(600, abs=2) and s.test.size == pytest.approx(600, abs=2)
    assert len(set(s.train) | set(s.valid) | set(s.test)) == s.train.size + s.valid.size + s.test.size


def test_only_labels_known_at_cutoff_are_used() -> None:
    t = _times(3000)
    y = (np.arange(3000) % 10 == 0).astype(int)
    delay = np.where(y == 1, 3, 1) * DAY  # positives are confirmed late
    s = time_split(t, y, SplitConfig(gap_days=0.5, test_gap_days=0.5), label_times=t + delay)
    used = np.concatenate([s.train, s.valid])
    assert np.all(t[used] + delay[used] <= s.test_start)
    assert s.unlabelled_dropped > 0
    # positives in the last 3 days before the test start are unknown then, older negatives are known
    late = (t > s.test_start - 3 * DAY) & (t < s.test_start)
    assert not np.any(np.isin(np.flatnonzero(late & (y == 1)), used))


def test_test_gap_defaults_to_the_label_delay() -> None:
    t = _times(3000)
    y = (np.arange(3000) % 10 == 0).astype(int)
    delay = np.where(y == 1, 3, 2) * DAY
    s = time_split(t, y, SplitConfig(gap_days=0.5), label_times=t + delay)
    assert s.test_gap_days == pytest.approx(3.0)
    assert s.unlabelled_dropped == 0  # every validation label is in by the test start
    assert time_split(t, y, SplitConfig(gap_days=0.5)).test_gap_days == 0.5


def test_no_positives_in_validation_is_named() -> None:
    t = _times(1000)
    y = np.zeros(1000, dtype=int)
    y[:50] = 1  # positives only early on
    with pytest.raises(InsufficientDataError, match="no positives in the valid period"):
        time_split(t, y, SplitConfig())


def test_gap_too_large_empties_a_period() -> None:
    t = _times(1000, days=10)
    y = (np.arange(1000) % 5 == 0).astype(int)
    with pytest.raises(InsufficientDataError, match="train period is empty after the gaps"):
        time_split(t, y, SplitConfig(valid_fraction=0.1, gap_days=5))
    with pytest.raises(InsufficientDataError, match="valid period is empty after the gaps"):
        time_split(t, y, SplitConfig(valid_fraction=0.1, gap_days=1, test_gap_days=9))


def test_rolling_origin_respects_gap_and_order() -> None:
    folds = rolling_origin(100, 4, gap_rows=3)
    assert len(folds) == 4
    for tr, te in folds:
        assert tr.max() + 3 < te.min()
    with pytest.raises(InsufficientDataError, match="at least 2 folds"):
        rolling_origin(100, 1)


def test_test_period_grows_back_until_it_holds_the_positives() -> None:
    """Delayed labels: the newest rows hold no positive yet; the test period reaches back for some."""
    t = np.arange(1000).astype("datetime64[h]").astype("datetime64[us]")
    y = np.zeros(1000, dtype=int)
    y[np.arange(0, 700, 7)] = 1  # positives only in the oldest 70% of rows
    cfg = SplitConfig(valid_fraction=0.15, test_fraction=0.15, gap_days=0, test_gap_days=0)
    grown = time_split(t, y, cfg.model_copy(update={"min_test_positives": 3}))
    assert y[grown.test].sum() >= 3 and grown.test.size == 350  # 15% + 4 x 5% of the rows
    assert y[grown.valid].sum() > 0 and grown.train.max() < grown.valid.min() < grown.test.min()
    only_old = np.where(np.arange(1000) < 500, y, 0)  # none in the newest 45%: still a named error
    with pytest.raises(InsufficientDataError, match="no positives in the test period"):
        time_split(t, only_old, cfg)
