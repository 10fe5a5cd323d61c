"""Time-aware splits: train | gap | validation | test gap | test by event time, and rolling-origin folds.

The test period is the last ``test_fraction`` of rows (grown back in steps of 5% of the rows, up to 45%,
while it holds fewer than ``min_test_positives`` positives); the validation period the ``valid_fraction`` of
rows just before the test gap; training is everything before the validation period and its ``gap_days``
gap. The test gap (``test_gap_days``) defaults to the label delay of 95% of rows (the 95th percentile of
``label_available_at − event_time``, e.g. the 14-day maturity of legit transactions), at least
``gap_days``; without a label-availability column it is ``gap_days``.

The model is taken to go live at the start of the test period, so train and validation rows whose label
was not yet available then (``label_available_at`` later than the test start) are dropped: a backtest may
use only what a real run would have known. Test rows are judged by their eventual labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import TimeSeriesSplit

from shopml.errors import InsufficientDataError
from shopml.train.config import SplitConfig

__all__ = ["TimeSplit", "rolling_origin", "time_split"]

LABEL_DELAY_QUANTILE = 0.95
#: The test period grows back at most to this share of the rows (``SplitConfig.min_test_positives``).
MAX_TEST_FRACTION = 0.45


@dataclass(frozen=True)
class TimeSplit:
    """Row indices of the three periods (time-sorted input) and their boundaries."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    valid_start: np.datetime64
    test_start: np.datetime64
    gap_days: float
    test_gap_days: float
    unlabelled_dropped: int

    def describe(self, times: np.ndarray, y: np.ndarray | None) -> dict[str, Any]:
        """Rows, positives (when ``y`` is a 0/1 label) and time range of each period (report, lineage)."""
        out: dict[str, Any] = {
            "gap_days": self.gap_days,
            "test_gap_days": self.test_gap_days,
            "label_cutoff": str(self.test_start),
            "unlabelled_dropped": self.unlabelled_dropped,
        }
        for part in ("train", "valid", "test"):
            idx = getattr(self, part)
            out[part] = {"rows": int(idx.size)}
            if y is not None:
                out[part]["positives"] = int(y[idx].sum())
            out[part].update(start=str(times[idx].min()), end=str(times[idx].max()))
        return out


def time_split(
    times: np.ndarray, y: np.ndarray | None, cfg: SplitConfig, label_times: np.ndarray | None = None
) -> TimeSplit:
    """Split time-sorted rows (see the module docstring); rows inside the gaps are not used.
    Raises :class:`InsufficientDataError` naming an empty or one-class period. ``y``: the 0/1 rare
    positives every period must hold (``None`` for kinds without one, e.g. regression).

    >>> t = np.arange(100).astype("datetime64[D]").astype("datetime64[us]")
    >>> cfg = SplitConfig(valid_fraction=0.2, test_fraction=0.2, gap_days=2, test_gap_days=5)
    >>> s = time_split(t, np.arange(100) % 2, cfg)
    >>> (s.train.size, s.valid.size, s.test.size)
    (53, 20, 20)
    """
    n = len(times)
    if n < 10:
        raise InsufficientDataError(f"only {n} rows; the time split needs at least 10")
    gap = np.timedelta64(round(cfg.gap_days * 86_400_000_000), "us")
    test_gap_days = cfg.test_gap_days
    if test_gap_days is None:
        test_gap_days = cfg.gap_days
        if label_times is not None:  # the label delay most rows need: 95th percentile
            delay = (label_times - times) / np.timedelta64(1, "D")
            test_gap_days = max(cfg.gap_days, float(np.quantile(delay, LABEL_DELAY_QUANTILE)))
    test_gap = np.timedelta64(round(test_gap_days * 86_400_000_000), "us")
    fraction = cfg.test_fraction
    while True:  # with delayed labels the newest rows may hold no positive yet: grow the test period back
        test_start = times[min(n - 1, int(n * (1 - fraction)))]
        if y is None or fraction >= MAX_TEST_FRACTION:
            break
        if int(y[times >= test_start].sum()) >= cfg.min_test_positives:
            break
        fraction = min(MAX_TEST_FRACTION, fraction + 0.05)
    before = int(np.searchsorted(times, test_start - test_gap, side="left"))  # rows before the test gap
    valid_start = times[max(0, before - int(n * cfg.valid_fraction))] if before else test_start
    train_mask = times < valid_start - gap
    valid_mask = (times >= valid_start) & (times < test_start - test_gap)
    test_mask = times >= test_start
    dropped = 0
    if label_times is not None:
        known = label_times <= test_start
        dropped = int(((train_mask | valid_mask) & ~known).sum())
        train_mask &= known
        valid_mask &= known
    split = TimeSplit(
        train=np.flatnonzero(train_mask),
        valid=np.flatnonzero(valid_mask),
        test=np.flatnonzero(test_mask),
        valid_start=valid_start,
        test_start=test_start,
        gap_days=cfg.gap_days,
        test_gap_days=test_gap_days,
        unlabelled_dropped=dropped,
    )
    _check(split, y, times)
    return split


def _check(split: TimeSplit, y: np.ndarray | None, times: np.ndarray) -> None:
    for part, hint in (
        ("train", "more history or smaller valid/test fractions"),
        ("valid", "a larger split.valid_fraction or more data"),
        ("test", "a larger split.test_fraction or more data"),
    ):
        idx = getattr(split, part)
        if idx.size == 0:
            raise InsufficientDataError(
                f"the {part} period is empty after the gaps ({split.gap_days} and {split.test_gap_days} days)"
                f" and the label-availability filter; use smaller split gaps, {hint}"
            )
        if y is None:
            continue
        positives = int(y[idx].sum())
        if positives == 0:
            raise InsufficientDataError(
                f"no positives in the {part} period ({times[idx].min()} .. {times[idx].max()},"
                f" {idx.size} rows); use {hint}"
            )
        if positives == idx.size:
            raise InsufficientDataError(f"no negatives in the {part} period ({idx.size} rows)")


def rolling_origin(n_rows: int, n_splits: int, gap_rows: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rolling-origin folds over ``n_rows`` time-sorted rows (scikit-learn ``TimeSeriesSplit`` with gap).

    >>> [(tr.size, te.size) for tr, te in rolling_origin(20, 3, gap_rows=2)]
    [(3, 5), (8, 5), (13, 5)]
    """
    if n_splits < 2:
        raise InsufficientDataError(f"rolling-origin CV needs at least 2 folds, got {n_splits}")
    splitter = TimeSeriesSplit(n_splits=n_splits, gap=gap_rows)
    return list(splitter.split(np.zeros((n_rows, 1))))
