"""Settings of a drift comparison, with per-feature test and threshold overrides read from YAML.

```yaml
alpha: 0.05                 # family-wise level of the corrected p-values
correction: bh              # bh | bonferroni | none
min_effect_numeric: 0.1     # relevance floor: normalised Wasserstein, in reference σ
min_effect_categorical: 0.1   # relevance floor: debiased Jensen–Shannon distance (base 2)
min_effect_score: 0.2       # relevance floor of the model-score test (normalised Wasserstein)
features:
  amount: {test: psi, threshold: 0.25}
  country: {test: jensenshannon}
```

**Default-picking rule.** Numeric features use ``ks`` and categorical/boolean features ``chi2``: both
give honest p-values for the correction (exact on raw values up to ``exact_max_rows`` rows per side,
asymptotic on the sketches above that), and the relevance floor above keeps large windows from flagging
shifts nobody cares about. A feature named under ``features`` uses the test and threshold given there.
Features named under ``exclude`` (default: calendar features such as ``day_of_week``, whose
distribution a daily window fixes by construction) are not tested and are listed in the report.

**Score floor.** The model's score is tested against its own, higher floor (``min_effect_score``, 0.2 σ):
the score mixes the calendar inputs the feature tests leave out, so one day's score differs from the
week-long reference profile by its weekday and hour mix. Measured on the simulated stationary shop (48
daily windows against the first model's profile): median effect 0.05, maximum 0.13, significant on
almost every day; the feature floors of 0.1 would have raised score drift on 4 of the 48 days.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopml.monitor.drift.registry import CORRECTIONS, TESTS

__all__ = ["CALENDAR_FEATURES", "DEFAULT_TESTS", "DriftConfig", "FeatureOverride"]

#: Calendar features whose distribution in a window is set by the window itself (a daily window holds
#: one weekday): excluded from drift tests by default and listed in the report as excluded.
CALENDAR_FEATURES = ("day_of_week", "weekday", "is_weekend", "day_of_month", "month", "week_of_year")
#: The default test per column kind (see the module docstring for the rule).
DEFAULT_TESTS = {"numeric": "ks", "categorical": "chi2"}


class FeatureOverride(BaseModel):
    """A feature's own test and/or threshold (the test's default threshold when omitted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test: str | None = None
    threshold: float | None = Field(None, gt=0.0)

    @field_validator("test")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in TESTS:
            raise ValueError(f"unknown drift test '{v}' (known: {sorted(TESTS)})")
        return v


class DriftConfig(BaseModel):
    """All knobs of :func:`shopml.monitor.compare`; defaults are the documented rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    correction: str = "bh"
    min_effect_numeric: float = Field(0.1, ge=0.0)
    min_effect_categorical: float = Field(0.1, ge=0.0)
    min_effect_score: float = Field(0.2, ge=0.0, description="relevance floor of the score test")
    share_threshold: float = Field(0.05, ge=0.0, le=1.0, description="weighted drifted share for 'drift'")
    min_rows: int = Field(30, ge=1, description="rows per side below which the verdict is insufficient_data")
    exact_max_rows: int = Field(5000, ge=0, description="raw values kept (exact tests) up to this many rows")
    batch_rows: int = Field(
        1 << 20, ge=1000, description="rows per streamed batch (Arrow's default Parquet row group)"
    )
    multivariate: bool = True
    multivariate_rows: int = Field(2000, ge=50, description="rows per side for the domain classifier")
    min_auc: float = Field(0.6, ge=0.5, le=1.0, description="domain-classifier AUC floor (relevance)")
    null_rate_tolerance: float = Field(0.05, ge=0.0, le=1.0, description="allowed rise of a null rate")
    out_of_range_tolerance: float = Field(0.01, ge=0.0, le=1.0, description="allowed share outside ref range")
    row_count_tolerance: float = Field(0.5, gt=0.0, lt=1.0, description="allowed relative row-count change")
    expected_rows: int | None = Field(None, ge=1, description="expected rows per window (row-count check)")
    seed: int = 0
    exclude: list[str] = Field(default_factory=lambda: list(CALENDAR_FEATURES))
    features: dict[str, FeatureOverride] = Field(default_factory=dict)

    @field_validator("correction")
    @classmethod
    def _correction(cls, v: str) -> str:
        if v not in CORRECTIONS:
            raise ValueError(f"unknown correction '{v}' (known: {list(CORRECTIONS)})")
        return v

    @classmethod
    def from_yaml(cls, path: str | Path) -> DriftConfig:
        """Read a YAML file; errors name the file, the key and the value."""
        from shopml.config.loader import load_yaml

        return load_yaml(path, cls, what="drift settings")
