"""The validated parameters of one simulated world (everything that, with the seed, fixes its bytes)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopml.errors import ConfigError
from shopml.simulate.names import SCENARIOS

__all__ = ["SCENARIOS", "SimulationParams"]

#: Default (onset as a share of days, length in days or None = until the end, magnitude) per scenario.
_DEFAULTS: dict[str, tuple[float, int | None, float]] = {
    "none": (0.0, None, 0.0),
    "sudden_covariate": (2 / 3, None, 0.3),
    "gradual_concept": (0.5, 21, 0.8),
    "seasonal": (0.5, 21, 0.8),
    "new_category": (0.5, None, 0.1),
    "data_quality": (0.5, None, 1.0),
    "new_items": (2 / 3, None, 1.0),
    "trend_shift": (2 / 3, None, 0.8),
    "language_mix": (0.5, None, 0.6),
    "new_slang": (0.5, None, 0.3),
}
DQ_VARIANTS = ("unit", "nulls")
MAX_DAYS = 700  # history keys hold ~795 days of milliseconds (see history.py)


class SimulationParams(BaseModel):
    """All knobs of a world. ``onset``/``length``/``magnitude`` default per scenario (see ``resolved``).

    >>> p = SimulationParams(days=90, scenario="sudden_covariate").resolved()
    >>> (p.onset, p.length, p.magnitude)
    (60, None, 0.3)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(90, ge=1, le=MAX_DAYS)
    seed: int = Field(42, ge=0)
    scenario: str = "none"
    customers: int = Field(20_000, ge=100, le=50_000_000)
    start: date = date(2025, 3, 3)
    onset: int | None = Field(None, ge=0)
    length: int | None = Field(None, ge=1)
    magnitude: float | None = Field(None, ge=0.0)
    variant: str = "unit"
    fraud_rate: float = Field(0.005, gt=0.0, le=0.2)
    return_rate: float = Field(0.02, gt=0.0, le=0.3)
    txn_rate: float = Field(0.15, gt=0.0, le=50.0, description="transactions per customer per day")
    order_rate: float = Field(0.05, gt=0.0, le=20.0, description="orders per customer per day")
    session_rate: float = Field(
        0.03, ge=0.0, le=5.0, description="browsing sessions per customer per day (0: no sessions, items)"
    )
    chargeback_median_days: float = Field(10.0, gt=0.0, le=120.0)
    maturity_days: int = Field(14, ge=1, le=120, description="a legit transaction's label matures")
    return_window_days: int = Field(30, ge=1, le=120)
    warmup_days: int = Field(30, ge=0, le=60, description="history simulated before start, not written")

    @model_validator(mode="after")
    def _check(self) -> SimulationParams:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; valid: {', '.join(SCENARIOS)}")
        if self.variant not in DQ_VARIANTS:
            raise ValueError(
                f"unknown data_quality variant {self.variant!r}; valid: {', '.join(DQ_VARIANTS)}"
            )
        if self.onset is not None and self.onset >= self.days:
            raise ValueError(f"onset day {self.onset} must be before the last day ({self.days - 1})")
        return self

    @classmethod
    def build(cls, **values: Any) -> SimulationParams:
        """Validate ``values`` (None means "default"); errors become :class:`ConfigError` naming the field."""
        try:
            return cls.model_validate({k: v for k, v in values.items() if v is not None}).resolved()
        except ValidationError as exc:
            parts = []
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "parameters"
                msg = str(e["msg"]).removeprefix("Value error, ")
                parts.append(f"simulate: {where}: {msg}" + (f" (got {e['input']!r})" if e["loc"] else ""))
            raise ConfigError("; ".join(parts)) from None

    def resolved(self) -> SimulationParams:
        """A copy with scenario defaults filled in for ``onset``, ``length`` and ``magnitude``."""
        share, length, magnitude = _DEFAULTS[self.scenario]
        onset = self.onset if self.onset is not None else min(int(self.days * share), self.days - 1)
        if self.scenario == "none":
            return self.model_copy(update={"onset": 0, "length": None, "magnitude": 0.0})
        return self.model_copy(
            update={
                "onset": onset,
                "length": self.length if self.length is not None else length,
                "magnitude": self.magnitude if self.magnitude is not None else magnitude,
            }
        )
