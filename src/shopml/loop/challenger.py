"""Challenger training through the one training pipeline (``shopml.train``), on the loop's window.

The loop hands over a point-in-time table (labels already resolved as known at the retrain moment, the
label-availability column removed) and recency weights. Unequal weights (the ``weighted`` window) go to
the model fit as per-row sample weights (``TrainConfig.weight_column``): every row is used, old ones
count less. The training split's label-delay gap (``split.test_gap_days``) defaults to 1 day here:
labels are already point-in-time; its test period grows back until it holds 5 positives
(``split.min_test_positives``), since the newest rows' chargebacks are mostly still to come.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from shopml.loop.policy import LoopPolicy

__all__ = ["WEIGHT_COLUMN", "Trainer", "train_challenger"]

#: The column that carries recency weights into ``shopml.train``.
WEIGHT_COLUMN = "__recency_weight"


class Trainer(Protocol):
    """Train a bundle from a point-in-time table and per-row weights; return the bundle folder."""

    def __call__(
        self, table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
    ) -> Path:
        """Write the bundle to ``out_dir`` and return it."""
        ...


def train_challenger(
    table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
) -> Path:
    """Train with ``shopml.train`` on ``table`` (the task preset overlaid by ``policy.train_config``)."""
    from shopml import train as train_api

    drop = [c for c in (policy.data.label_time_column,) if c in table.column_names]
    data = table.drop_columns(drop)
    weighted: dict[str, Any] = {}
    if data.num_rows and not np.allclose(weights, weights.max()):  # recency weights reach the model fit
        data = data.append_column(WEIGHT_COLUMN, pa.array(np.asarray(weights, dtype=np.float64)))
        weighted["weight_column"] = WEIGHT_COLUMN
    # labels are already resolved as known at ``now``: no label-delay gap is needed inside the window;
    # the newest rows hold few chargebacks yet, so the test period grows back until it holds some
    split = {"test_gap_days": 1.0, "min_test_positives": 5, **policy.train_config.get("split", {})}
    overrides: dict[str, Any] = {
        **policy.train_config,
        "split": split,
        "label_available_column": None,
        "name": policy.model,
        **weighted,
    }
    cfg = train_api.preset(policy.task, out_dir.parent, **overrides)
    result = train_api.train(cfg, table=data, out_dir=out_dir, register=False)
    return Path(result.bundle_dir)
