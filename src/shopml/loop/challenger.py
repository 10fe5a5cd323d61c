"""Challenger training through the one training pipeline (``shopml.train``), on the loop's window.

The task is a training preset (``fraud``, ``returns``) overlaid by the policy's ``train_config``, or any
other name with ``train_config`` holding the whole training config (a multiclass or regression model on
the shop's own table). The loop hands over a point-in-time table (labels already resolved as known at
the retrain moment, the label-availability column removed) and recency weights. Unequal weights (the
``weighted`` window) go to the model fit as per-row sample weights (``TrainConfig.weight_column``):
every row is used, old ones count less. The training split's label-delay gap (``split.test_gap_days``)
defaults to 1 day here: labels are already point-in-time; its test period grows back until it holds 5
positives (``split.min_test_positives``), since the newest rows' chargebacks are mostly still to come.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from shopml.errors import ConfigError
from shopml.kinds import ModelKind, get_kind
from shopml.loop.policy import LoopPolicy

if TYPE_CHECKING:
    from shopml.train import TrainConfig

__all__ = ["IMAGES_TASK", "WEIGHT_COLUMN", "Trainer", "policy_kind", "train_challenger"]

#: The column that carries recency weights into ``shopml.train``.
WEIGHT_COLUMN = "__recency_weight"
#: The task of the photo classifier, trained by :func:`shopml.images.drift.train_from_table`.
IMAGES_TASK = "images"


class Trainer(Protocol):
    """Train a bundle from a point-in-time table and per-row weights; return the bundle folder."""

    def __call__(
        self, table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
    ) -> Path:
        """Write the bundle to ``out_dir`` and return it."""
        ...


def _config(policy: LoopPolicy, data_dir: Path, **extra: Any) -> TrainConfig:
    """The challenger's training config: the task preset overlaid by ``policy.train_config``; a task
    that is no preset (a model trained from its own config) takes ``policy.train_config`` as the whole
    config, with the table, target and time column of ``policy.data`` unless it names its own."""
    from pydantic import ValidationError

    from shopml import train as train_api

    # labels are already resolved as known at ``now``: no label-delay gap is needed inside the window;
    # the newest rows hold few chargebacks yet, so the test period grows back until it holds some
    split = {"test_gap_days": 1.0, "min_test_positives": 5, **policy.train_config.get("split", {})}
    overrides: dict[str, Any] = {
        **policy.train_config,
        "split": split,
        "label_available_column": None,
        "name": policy.model,
        **extra,
    }
    if policy.task in train_api.TASKS:
        return train_api.preset(policy.task, data_dir, **overrides)
    data = policy.data
    base = {"table": str(data.path or data_dir), "target": data.target, "time_column": data.time_column}
    try:
        return train_api.TrainConfig.model_validate({"task": policy.task, **base, **overrides})
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in e['loc'])}' = {e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"loop policy train_config for task '{policy.task}': {problems}") from None


def policy_kind(policy: LoopPolicy) -> ModelKind:
    """The kind of model the loop trains (``kind`` of its training config; the presets are binary;
    ``images``: the photo classifier, multiclass)."""
    if policy.task == IMAGES_TASK:
        return get_kind("multiclass")
    return get_kind(str(getattr(_config(policy, Path(".")), "kind", "binary")))


def train_challenger(
    table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
) -> Path:
    """Train with ``shopml.train`` on ``table`` (the task preset overlaid by ``policy.train_config``);
    the ``images`` task trains the photo classifier on a photo table (:mod:`shopml.images.drift`)."""
    from shopml import train as train_api

    drop = [c for c in (policy.data.label_time_column,) if c in table.column_names]
    data = table.drop_columns(drop)
    if policy.task == IMAGES_TASK:
        from shopml.images.drift import train_from_table

        return train_from_table(data, policy.data.target, out_dir, policy.model, policy.train_config)
    weighted: dict[str, Any] = {}
    if data.num_rows and not np.allclose(weights, weights.max()):  # recency weights reach the model fit
        data = data.append_column(WEIGHT_COLUMN, pa.array(np.asarray(weights, dtype=np.float64)))
        weighted["weight_column"] = WEIGHT_COLUMN
    cfg = _config(policy, out_dir.parent, **weighted)
    result = train_api.train(cfg, table=data, out_dir=out_dir, register=False)
    return Path(result.bundle_dir)
