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

import importlib
from collections.abc import Callable
from dataclasses import dataclass
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

__all__ = [
    "IMAGES_TASK",
    "INPUT_TASKS",
    "TEXT_TASK",
    "WEIGHT_COLUMN",
    "InputTask",
    "Trainer",
    "input_task",
    "policy_kind",
    "train_challenger",
]

#: The column that carries recency weights into ``shopml.train``.
WEIGHT_COLUMN = "__recency_weight"
#: The task of the photo classifier, trained by :func:`shopml.images.drift.train_from_table`.
IMAGES_TASK = "images"
#: The task of the text classifier, trained by :func:`shopml.text.table.train_from_table`.
TEXT_TASK = "text"


@dataclass(frozen=True)
class InputTask:
    """A model the loop trains from a table of its raw inputs (photos, texts) rather than features: its
    kind, the bundle ``input_type`` it serves, and two functions named ``"module:function"`` (imported on
    first use): ``train(table, target, out_dir, name, train_config) -> bundle folder`` and
    ``score(bundle, table) -> outputs`` (what the gate compares on the holdout)."""

    kind: str
    input_type: str
    train: str
    score: str

    def function(self, which: str) -> Callable[..., Any]:
        """The ``train`` or ``score`` function."""
        module, name = str(getattr(self, which)).split(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


#: The loop's input tasks, by task name.
INPUT_TASKS: dict[str, InputTask] = {
    IMAGES_TASK: InputTask(
        "multiclass", "image", "shopml.images.drift:train_from_table", "shopml.images.drift:score_photos"
    ),
    TEXT_TASK: InputTask(
        "multiclass", "text", "shopml.text.table:train_from_table", "shopml.text.table:score_texts"
    ),
}


def input_task(input_type: str | None) -> InputTask | None:
    """The input task that serves bundles of ``input_type`` (``None``: a feature-table model)."""
    return next((t for t in INPUT_TASKS.values() if t.input_type == input_type), None)


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
    """The kind of model the loop trains (``kind`` of its training config; the presets are binary; an
    input task's own kind: the photo and text classifiers are multiclass)."""
    task = INPUT_TASKS.get(policy.task)
    if task is not None:
        return get_kind(task.kind)
    return get_kind(str(getattr(_config(policy, Path(".")), "kind", "binary")))


def train_challenger(
    table: pa.Table, weights: np.ndarray, policy: LoopPolicy, out_dir: Path, now: datetime
) -> Path:
    """Train with ``shopml.train`` on ``table`` (the task preset overlaid by ``policy.train_config``); an
    input task (:data:`INPUT_TASKS`: ``images`` on a photo table, ``text`` on a text table) trains its
    own model with ``policy.train_config`` as its settings."""
    from shopml import train as train_api

    drop = [c for c in (policy.data.label_time_column,) if c in table.column_names]
    data = table.drop_columns(drop)
    task = INPUT_TASKS.get(policy.task)
    if task is not None:
        train = task.function("train")
        return Path(train(data, policy.data.target, out_dir, policy.model, policy.train_config))
    weighted: dict[str, Any] = {}
    if data.num_rows and not np.allclose(weights, weights.max()):  # recency weights reach the model fit
        data = data.append_column(WEIGHT_COLUMN, pa.array(np.asarray(weights, dtype=np.float64)))
        weighted["weight_column"] = WEIGHT_COLUMN
    cfg = _config(policy, out_dir.parent, **weighted)
    result = train_api.train(cfg, table=data, out_dir=out_dir, register=False)
    return Path(result.bundle_dir)
