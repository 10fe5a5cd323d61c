"""Per-class figures, calibration and the auto-assign threshold."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.images.evaluate import at_threshold, ece, per_class, review_threshold


def test_calibrated_scores_have_small_ece_and_overconfident_large() -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 20000)
    y = (rng.random(20000) > conf).astype(int)  # class 0 is right with probability conf
    p = np.c_[conf, 1 - conf]
    small, curve = ece(y, p)
    assert small < 0.02 and sum(r["count"] for r in curve) == 20000
    sharp = np.c_[np.where(conf > 0.5, 0.999, 0.001), np.where(conf > 0.5, 0.001, 0.999)]
    assert ece(y, sharp)[0] > 0.2


def test_review_threshold_reaches_the_target_with_most_coverage() -> None:
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.34, 1.0, 5000)
    right = rng.random(5000) < conf
    y = np.where(right, 0, 1)
    p = np.c_[conf, (1 - conf) / 2, (1 - conf) / 2]
    got = review_threshold(y, p, 0.98)
    assert got["precision"] >= 0.98 and 0.9 < got["threshold"] < 1.0
    assert at_threshold(y, p, got["threshold"])["coverage"] == pytest.approx(got["coverage"])
    assert np.isnan(review_threshold(np.ones(10, int), np.tile([0.9, 0.1], (10, 1)))["threshold"])


def test_per_class_rows() -> None:
    y = np.array([0, 0, 1, 2])
    p = np.eye(3)[[0, 1, 1, 2]]
    rows = per_class(y, p, ["a", "b", "c"])
    assert rows[0] == {
        "class": "a",
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert rows[1]["precision"] == 0.5 and rows[1]["recall"] == 1.0
