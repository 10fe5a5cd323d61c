"""Challenger training through the one training pipeline (``shopml.train``), on the loop's window.

The loop hands over a point-in-time table (labels already resolved as known at the retrain moment, the
label-availability column removed) and recency weights. The training API has no sample weights yet, so
recency weighting is applied by weighted subsampling: each row is kept with probability equal to its
weight (newest rows weigh 1), which makes the expected training loss the weighted one. The training
split's label-delay gap (``split.test_gap_days``) defaults to 1 day here: labels are already point-in-time.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from shopml.loop.policy import LoopPolicy

__all__ = ["Trainer", "subsample_by_weight", "train_challenger"]


class Trainer(Protocol):
    """Train a bundle from a point-in-time table and per-row weights; return the bundle folder."""

    def __call__(
        self, table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
    ) -> Path:
        """Write the bundle to ``out_dir`` and return it."""
        ...


def subsample_by_weight(table: pa.Table, weights: np.ndarray, seed: int) -> pa.Table:
    """Keep row ``i`` with probability ``weights[i] / max(weights)`` (all rows if the weights are equal)."""
    if table.num_rows == 0 or np.allclose(weights, weights.max()):
        return table
    rng = np.random.default_rng(seed)
    keep = rng.random(table.num_rows) < weights / weights.max()
    return table.filter(pa.array(keep))


def train_challenger(
    table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
) -> Path:
    """Train with ``shopml.train`` on ``table`` (the task preset overlaid by ``policy.train_config``)."""
    from shopml import train as train_api

    seed = int(policy.train_config.get("seed", 42))
    data = subsample_by_weight(table, weights, seed)
    drop = [c for c in (policy.data.label_time_column,) if c in data.column_names]
    data = data.drop_columns(drop)
    # labels are already resolved as known at ``now``: no label-delay gap is needed inside the window
    split = {"test_gap_days": 1.0, **policy.train_config.get("split", {})}
    overrides: dict[str, Any] = {
        **policy.train_config,
        "split": split,
        "label_available_column": None,
        "name": policy.model,
    }
    cfg = train_api.preset(policy.task, out_dir.parent, **overrides)
    result = train_api.train(cfg, table=data, out_dir=out_dir, register=False)
    return Path(result.bundle_dir)
