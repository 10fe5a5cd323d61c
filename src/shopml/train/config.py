"""Training configuration: the user's own table via YAML, and the ``fraud``/``returns`` presets.

A config names the table (Parquet or CSV file or folder), the target, the event-time column, the id
column and optionally the label-availability column; everything else has a stated default. ``kind``
(default ``binary``) says what the target is: 0/1 (binary), class names (multiclass) or numbers
(regression).

>>> cfg = preset("fraud", "data/sim")
>>> (cfg.model_name, cfg.target, cfg.costs.amount_column)
('fraud', 'is_fraud', 'amount')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from shopml.config.loader import read_yaml, validate_model
from shopml.errors import ConfigError
from shopml.stats import Costs

__all__ = [
    "STRATEGIES",
    "TASKS",
    "WEIGHTABLE",
    "SearchConfig",
    "SplitConfig",
    "TrainConfig",
    "XGBParams",
    "load_train_config",
    "preset",
]

#: Imbalance strategies, in the order the comparison table lists them.
STRATEGIES = ("none", "class_weight", "undersample", "smote", "adasyn", "smote_tomek")
#: Strategies that keep the training rows as they are, so per-row weights (``weight_column``) line up.
WEIGHTABLE = ("none", "class_weight")
Imbalance = Literal["none", "class_weight", "undersample", "smote", "adasyn", "smote_tomek", "auto"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SplitConfig(_Model):
    """Out-of-time split: train | gap | validation | gap | test, by event time."""

    valid_fraction: float = Field(0.15, gt=0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    min_test_positives: int = Field(
        1,
        ge=1,
        description="grow the test period back (up to 45% of rows) until it holds this many positives",
    )
    gap_days: float = Field(1.0, ge=0, description="gap between the training and validation periods")
    test_gap_days: float | None = Field(
        None, ge=0, description="gap between validation and test; default: the 95th-percentile label delay"
    )
    cv_folds: int = Field(0, ge=0, le=20, description="rolling-origin CV folds over train+valid (0 = off)")

    @model_validator(mode="after")
    def _check(self) -> SplitConfig:
        if self.cv_folds == 1:
            raise ValueError("cv_folds must be 0 (off) or at least 2")
        return self


class XGBParams(_Model):
    """XGBoost parameters (scikit-learn API); ``early_stopping_rounds`` watches the validation period."""

    n_estimators: int = Field(300, ge=1)
    learning_rate: float = Field(0.1, gt=0, le=1)
    max_depth: int = Field(6, ge=1, le=16)
    min_child_weight: float = Field(1.0, ge=0)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    reg_alpha: float = Field(0.0, ge=0)
    max_bin: int = Field(256, ge=8)
    early_stopping_rounds: int | None = Field(30, ge=1)
    n_jobs: int = Field(2, ge=1, le=64)


class SearchConfig(_Model):
    """Regularisation search: ``n_trials`` XGBoost fits (the first is the configured parameters, the
    others random draws from ``space``), each early-stopped and scored by validation PR-AUC."""

    n_trials: int = Field(6, ge=1, le=200)
    space: dict[str, list[float]] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "max_depth": [3, 4, 6, 8],
            "min_child_weight": [1, 5, 20],
            "reg_lambda": [0.1, 1.0, 10.0],
            "reg_alpha": [0.0, 0.1, 1.0],
            "subsample": [0.6, 0.8, 1.0],
            "colsample_bytree": [0.6, 0.8, 1.0],
        }
    )

    @model_validator(mode="after")
    def _check(self) -> SearchConfig:
        unknown = sorted(set(self.space) - set(XGBParams.model_fields))
        if unknown:
            raise ValueError(f"search.space has unknown parameters {unknown}")
        empty = sorted(k for k, v in self.space.items() if not v)
        if empty:
            raise ValueError(f"search.space lists no values for {empty}")
        return self


class TrainConfig(_Model):
    """Everything one training run needs. ``name`` (the registry name) defaults to ``task``."""

    task: str = "custom"
    kind: str = Field(
        "binary",
        description="model kind (shopml.kinds): binary, multiclass or regression; decides the target's"
        " type, the estimator, the metrics and the served outputs",
    )
    name: str | None = None
    table: Path
    target: str
    time_column: str
    id_column: str | None = None
    label_available_column: str | None = None
    weight_column: str | None = Field(
        None,
        description="per-row weights (e.g. recency decay) for every fit, calibration, threshold and test"
        " metrics; not an input; none or class_weight only",
    )
    features: list[str] | None = Field(None, description="model inputs (default: all usable columns)")
    drop_columns: list[str] = Field(default_factory=list)
    schema_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    imbalance: Imbalance = "none"
    sampling_ratio: float = Field(0.1, gt=0, le=1, description="minority/majority ratio after resampling")
    objective: Literal["f1", "cost"] = "f1"
    calibration: Literal["auto", "sigmoid", "isotonic"] = "auto"
    isotonic_min_positives: int = Field(1000, ge=1)
    costs: Costs = Field(
        default_factory=lambda: Costs(),
        description="the cost model of the 'cost' objective and of expected_cost; recorded in bundle.json",
    )
    split: SplitConfig = Field(default_factory=lambda: SplitConfig())
    model: XGBParams = Field(default_factory=lambda: XGBParams())
    search: SearchConfig = Field(default_factory=lambda: SearchConfig())
    learning_curve_sizes: list[float] = Field(default_factory=lambda: [0.25, 0.5, 1.0])
    n_resamples: int = Field(
        500, ge=10, le=20000, validation_alias=AliasChoices("n_resamples", "bootstrap"), description="draws"
    )
    level: float = Field(0.95, gt=0.5, lt=1, validation_alias=AliasChoices("level", "ci_level"))
    recall_at_precision: float = Field(0.9, gt=0, lt=1)
    parity_rows: int = Field(2000, ge=10)
    parity_tolerance: float = Field(1e-5, gt=0)
    seed: int = 42

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        from shopml.kinds import KINDS

        if value not in KINDS:
            raise ValueError(f"unknown model kind '{value}' (known: {sorted(KINDS)})")
        return value

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.split.valid_fraction + self.split.test_fraction >= 0.8:
            raise ValueError("split.valid_fraction + split.test_fraction must leave >= 20% for training")
        if self.weight_column is not None and self.imbalance not in (*WEIGHTABLE, "auto"):
            raise ValueError(
                f"weight_column '{self.weight_column}' needs imbalance one of {', '.join(WEIGHTABLE)} or "
                f"auto, got '{self.imbalance}': resampling adds or removes rows, the weights cannot follow"
            )
        if any(not 0 < s <= 1 for s in self.learning_curve_sizes):
            raise ValueError(f"learning_curve_sizes must lie in (0, 1], got {self.learning_curve_sizes}")
        return self

    @property
    def model_name(self) -> str:
        """The registry name: ``name`` or else the task."""
        return self.name or self.task


_PRESETS: dict[str, dict[str, Any]] = {
    "fraud": {
        "table": "transactions",
        "target": "is_fraud",
        "time_column": "event_time",
        "id_column": "transaction_id",
        "label_available_column": "label_available_at",
        "drop_columns": ["fraud_pattern", "customer_id", "date"],
        "costs": {"false_positive": 5.0, "amount_column": "amount"},
    },
    "returns": {
        "table": "orders",
        "target": "is_high_value_return",
        "time_column": "event_time",
        "id_column": "order_id",
        "label_available_column": "label_available_at",
        "drop_columns": ["customer_id", "date"],
        "costs": {"false_positive": 2.0, "amount_column": "price"},
    },
}
#: Presets for the simulator's tables.
TASKS = tuple(_PRESETS)


def _validate(data: dict[str, Any], source: str) -> TrainConfig:
    return validate_model(TrainConfig, data, source)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def _preset_dict(task: str, data_dir: str | Path) -> dict[str, Any]:
    if task not in _PRESETS:
        expected = ", ".join(TASKS)
        raise ConfigError(f"unknown task '{task}' (expected one of {expected}, or a --train-config file)")
    base = dict(_PRESETS[task])
    base["table"] = str(Path(data_dir) / base["table"])
    return {**base, "task": task}


def preset(task: str, data_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The preset config of ``task`` (``fraud`` or ``returns``) for a simulator folder ``data_dir``."""
    return _validate(_merge(_preset_dict(task, data_dir), overrides), f"task '{task}'")


def load_train_config(
    path: str | Path, *, task: str | None = None, data_dir: str | Path | None = None, **overrides: Any
) -> TrainConfig:
    """Read a training YAML. With ``task`` its keys overlay that preset; a relative ``table`` is resolved
    against the YAML's folder, and ``data_dir`` (if given) replaces the table path."""
    p = Path(path)
    loaded = read_yaml(p, what="training config")
    data: dict[str, Any] = {}
    if task is not None:
        data = _preset_dict(task, data_dir if data_dir is not None else p.parent)
    if "table" in loaded and not Path(str(loaded["table"])).is_absolute():
        loaded["table"] = str(p.parent / str(loaded["table"]))
    data = _merge(_merge(data, loaded), overrides)
    if data_dir is not None and task is None:
        data["table"] = str(data_dir)
    return _validate(data, str(p))
