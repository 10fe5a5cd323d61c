"""Realised intervals of the non-binary kinds over few time blocks."""

from __future__ import annotations

import numpy as np

from shopml.kinds import get_kind
from shopml.monitor.performance.family import MIN_BLOCKS, family_intervals


def test_one_hour_of_traffic_still_has_an_interval() -> None:
    """All rows within one block: the rows are resampled (an interval of real width), not the block."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=400)
    pred = y + rng.normal(size=400)
    one = family_intervals(get_kind("regression"), y, pred, blocks=np.zeros(400, np.int64))
    rows = family_intervals(get_kind("regression"), y, pred)
    assert one["mae"].high - one["mae"].low > 0.05
    assert one["mae"] == rows["mae"]  # the same draws as independent rows


def test_enough_blocks_are_resampled_whole() -> None:
    """With ``MIN_BLOCKS`` blocks or more, whole blocks move: an interval of blocks of identical rows is
    wider than the one that treats the rows as independent."""
    rng = np.random.default_rng(4)
    per = rng.normal(size=MIN_BLOCKS) * 2
    y = np.repeat(per, 40)
    pred = np.zeros_like(y)
    blocks = np.repeat(np.arange(MIN_BLOCKS), 40)
    whole = family_intervals(get_kind("regression"), y, pred, blocks=blocks)
    rows = family_intervals(get_kind("regression"), y, pred)
    assert whole["mae"].high - whole["mae"].low > 2 * (rows["mae"].high - rows["mae"].low)
