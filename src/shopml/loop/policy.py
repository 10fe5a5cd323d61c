"""The retrain policy: which signals trigger a retrain, on which data window, and what the gate demands.

Read from YAML (``loop.yaml`` in the workspace by default, or ``--policy FILE``); unknown keys are errors.
Durations are numbers of hours/days so a YAML file stays readable:

>>> p = LoopPolicy.model_validate({"model": "fraud", "window": {"kind": "sliding", "days": 21}})
>>> (p.window.kind, p.window.days, p.gate.mode)
('sliding', 21.0, 'non_inferior')
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from croniter import croniter
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from shopml.config.loader import load_yaml
from shopml.errors import ConfigError
from shopml.journal.events import SEVERITIES

__all__ = [
    "SEVERITY_ORDER",
    "DataPolicy",
    "DriftTrigger",
    "GatePolicy",
    "LabelDelayPolicy",
    "LabelsTrigger",
    "LoopPolicy",
    "MonitorPolicy",
    "PerformanceTrigger",
    "ScheduleTrigger",
    "TriggerPolicy",
    "WebhookPolicy",
    "WindowPolicy",
    "load_policy",
]

#: Event severities from least to most severe (the event store's); drift fires at or above ``min_severity``.
SEVERITY_ORDER: tuple[str, ...] = SEVERITIES


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DriftTrigger(_Section):
    """Drift events from the monitor at or above a severity, on the features that matter."""

    enabled: bool = True
    min_severity: str = "warning"
    features: list[str] = Field(default_factory=list, description="important features; empty = any")
    min_events: int = Field(1, ge=1, description="debounce: qualifying events needed in one episode")

    @field_validator("min_severity")
    @classmethod
    def _known_severity(cls, v: str) -> str:
        if v not in SEVERITY_ORDER:
            raise ValueError(f"unknown severity {v!r}, expected one of {list(SEVERITY_ORDER)}")
        return v


class PerformanceTrigger(_Section):
    """A drop of the monitored metric beyond ``tolerance`` (relative to the baseline), CI included;
    for a lower-is-better metric (an error such as MAE) a rise beyond it."""

    enabled: bool = True
    metric: str | None = Field(
        None, description="act on this metric's events only; unset: the metric the monitor alerts on"
    )
    tolerance: float = Field(0.10, gt=0, lt=1, description="relative drop vs baseline that fires")
    require_ci: bool = Field(True, description="the CI upper bound (not only the point) must be below")
    use_estimated: bool = Field(True, description="also act on estimated (pre-label) performance")
    use_stream: bool = Field(True, description="also act on stream-detector alarms (error rate up)")
    min_events: int = Field(1, ge=1, description="debounce: qualifying events needed in one episode")


class ScheduleTrigger(_Section):
    """A cron schedule (UTC), e.g. ``"0 3 * * 1"`` = Mondays 03:00."""

    enabled: bool = False
    cron: str = "0 3 * * 1"

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str) -> str:
        if not croniter.is_valid(v):
            raise ValueError(f"not a valid cron expression: {v!r}")
        return v


class LabelsTrigger(_Section):
    """Retrain once ``min_rows`` new labelled rows arrived since the last retrain."""

    enabled: bool = False
    min_rows: int = Field(50_000, ge=1)


class TriggerPolicy(_Section):
    """All triggers plus debounce (episodes) and cooldown."""

    drift: DriftTrigger = Field(default_factory=lambda: DriftTrigger())
    performance: PerformanceTrigger = Field(default_factory=lambda: PerformanceTrigger())
    schedule: ScheduleTrigger = Field(default_factory=lambda: ScheduleTrigger())
    new_labels: LabelsTrigger = Field(default_factory=lambda: LabelsTrigger())
    episode_gap_hours: float = Field(
        72.0, gt=0, description="signals closer than this to the previous one belong to the same episode"
    )
    cooldown_hours: float = Field(72.0, ge=0, description="minimum time between two retrains")
    retry_rejected: bool = Field(
        True, description="an ongoing episode may fire again after cooldown if its retrain was rejected"
    )
    retry_backoff: float = Field(
        2.0, ge=1.0, description="each further retry of an episode waits this × longer"
    )

    @property
    def episode_gap(self) -> timedelta:
        """Episode gap as a timedelta."""
        return timedelta(hours=self.episode_gap_hours)

    @property
    def cooldown(self) -> timedelta:
        """Cooldown as a timedelta."""
        return timedelta(hours=self.cooldown_hours)


class WindowPolicy(_Section):
    """Which labelled rows train the challenger (point-in-time: labels known at the retrain moment)."""

    kind: Literal["sliding", "expanding", "weighted"] = "sliding"
    days: float = Field(28.0, gt=0, description="sliding window length (ignored by expanding)")
    half_life_days: float = Field(14.0, gt=0, description="weighted: a row this old weighs 1/2")
    pending_labels: Literal["drop", "negative"] = Field(
        "drop", description="rows whose label is not in yet: left out, or taken as negative (no claim yet)"
    )
    min_label_age_days: float = Field(
        0.0, ge=0, description="train only on rows at least this old (their label has had time to arrive)"
    )
    min_rows: int = Field(200, ge=1)
    min_positives: int = Field(10, ge=1)


class LabelDelayPolicy(_Section):
    """Delayed-feedback correction for the training window and the gate's holdout (see ``loop.delay``)."""

    correction: Literal["none", "arrival_weights"] = Field(
        "none", description="arrival_weights: each arrived positive weighs 1 / P(its label is in by its age)"
    )
    horizon_days: float = Field(
        45.0, gt=0, description="the arrival curve is estimated from positives at least this old"
    )
    max_weight: float = Field(10.0, ge=1, description="cap of a positive's weight")
    min_positives: int = Field(30, ge=1, description="fewer old positives: no correction (and said so)")


class GatePolicy(_Section):
    """The promotion gate: floors plus a paired bootstrap of the difference in the model kind's primary
    metric (PR-AUC for binary models, macro-F1 for multiclass, MAE for regression)."""

    metric: str | None = Field(
        None, description="the kind's primary metric (the only one the gate compares); unset = that one"
    )
    min_metric: float = Field(
        0.0,
        ge=0,
        description="floor for the challenger's primary metric: at least this (PR-AUC, macro-F1) or, for"
        " an error metric (MAE), at most this (0 = no bound)",
    )
    mode: Literal["superior", "non_inferior"] = "non_inferior"
    margin: float = Field(0.01, ge=0, description="non-inferiority margin on the metric's difference")
    level: float = Field(
        0.95,
        gt=0.5,
        lt=1,
        validation_alias=AliasChoices("level", "confidence"),
        description="confidence level",
    )
    n_resamples: int = Field(
        1000,
        ge=100,
        le=100_000,
        validation_alias=AliasChoices("n_resamples", "n_bootstrap"),
        description="draws",
    )
    holdout_days: float = Field(7.0, gt=0, description="length of the evaluation period")
    max_holdout_days: float = Field(
        0.0, ge=0, description="extend the period back (up to this) until it holds min_positives; 0 = never"
    )
    label_maturity_days: float = Field(
        14.0, ge=0, description="the evaluation period ends this long before now, so its labels are in"
    )
    min_positives: int = Field(
        20,
        ge=1,
        description="fewer positives (a kind with a rare positive class) or labelled rows (any other kind)"
        " in the holdout: no decision",
    )
    first_model: Literal["promote_if_floors", "never"] = "promote_if_floors"
    seed: int = 0


WebhookTopic = Literal["trigger", "promotion", "rollback", "gate", "drift"]


class WebhookPolicy(_Section):
    """Optional HMAC-SHA256-signed POST on promotions and drift alarms."""

    url: str | None = None
    secret: str | None = None
    secret_env: str = "SHOPML_WEBHOOK_SECRET"
    on: list[WebhookTopic] = Field(default_factory=lambda: list[WebhookTopic](["promotion", "drift"]))
    timeout_s: float = Field(5.0, gt=0)


class MonitorPolicy(_Section):
    """Optionally run ``shopml.monitor.run_monitor`` at the start of each pass (one command for cron)."""

    enabled: bool = False
    window: str = "1d"


class DataPolicy(_Section):
    """Where labelled history lives (a Parquet/CSV table or folder, e.g. the simulator's transactions)."""

    path: Path | None = None
    time_column: str = "event_time"
    label_time_column: str = "label_available_at"
    target: str = "is_fraud"


class LoopPolicy(_Section):
    """Everything the loop decides by."""

    model: str = "fraud"
    task: str = Field(
        "fraud", description="a training preset (fraud, returns), or any name: train_config is the config"
    )
    train_config: dict[str, Any] = Field(
        default_factory=dict,
        description="passed to the training API (over the preset); 'kind': the model kind (default binary)",
    )
    data: DataPolicy = Field(default_factory=lambda: DataPolicy())
    triggers: TriggerPolicy = Field(default_factory=lambda: TriggerPolicy())
    window: WindowPolicy = Field(default_factory=lambda: WindowPolicy())
    label_delay: LabelDelayPolicy = Field(default_factory=lambda: LabelDelayPolicy())
    gate: GatePolicy = Field(default_factory=lambda: GatePolicy())
    webhook: WebhookPolicy = Field(default_factory=lambda: WebhookPolicy())
    monitor: MonitorPolicy = Field(default_factory=lambda: MonitorPolicy())
    interval_s: float = Field(60.0, gt=0, description="loop run: seconds between passes")
    stale_lock_hours: float = Field(
        6.0, gt=0, description="unused, kept so older policy files load: the lock frees when its holder dies"
    )

    @model_validator(mode="after")
    def _delay_needs_negative_pending(self) -> LoopPolicy:
        if self.label_delay.correction != "none" and self.window.pending_labels != "negative":
            raise ValueError(
                f"label_delay.correction '{self.label_delay.correction}' weighs the arrived positives against"
                " pending rows taken as negative; it needs window.pending_labels: negative (got"
                f" '{self.window.pending_labels}': with 'drop' the young negatives are gone and the"
                " positives would be counted up twice)"
            )
        return self


def load_policy(path: str | Path | None, default_dir: Path | None = None) -> LoopPolicy:
    """Read a policy YAML; without a path use ``default_dir/loop.yaml`` if present, else defaults."""
    file = Path(path) if path is not None else (default_dir / "loop.yaml" if default_dir else None)
    if file is None or not file.exists():
        if path is not None:
            raise ConfigError(f"policy file {path} does not exist")
        return LoopPolicy()
    return load_yaml(file, LoopPolicy, what="loop policy")
