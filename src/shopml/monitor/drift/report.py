"""The typed drift report and its stable, versioned JSON form.

``DriftReport.to_dict()`` is the contract other parts (the monitor job, the loop, dashboards) read;
``REPORT_VERSION`` changes whenever a field changes meaning. Floats that have no value (a p-value of a
feature that was not tested) are ``null``, never NaN.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "REPORT_VERSION",
    "DriftReport",
    "FeatureDrift",
    "Histogram",
    "MultivariateDrift",
    "QualityIssue",
    "SchemaMismatch",
    "Verdict",
]

REPORT_VERSION = 1
Verdict = Literal["drift", "warning", "ok", "insufficient_data"]
FeatureVerdict = Literal["drift", "ok", "insufficient_data", "missing"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nan(cls, v: Any) -> Any:
        """NaN/inf are not JSON: a number without a value is ``None``."""
        return None if isinstance(v, float) and not math.isfinite(v) else v


class Histogram(_Model):
    """Reference vs current shares on common bins (what the HTML plots)."""

    labels: list[str]
    reference: list[float]
    current: list[float]


class FeatureDrift(_Model):
    """One feature's test, numbers and verdict."""

    name: str
    kind: str
    test: str
    method: str = Field(description="exact (raw values), sketch (with error_bound) or binned")
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    alpha: float
    threshold: float = Field(description="the test's threshold: p-value level or distance")
    effect_size: float | None = None
    effect_name: str
    min_effect: float = Field(description="relevance floor the effect size must reach")
    error_bound: float | None = None
    significant: bool = False
    relevant: bool = False
    drifted: bool = False
    verdict: FeatureVerdict
    n_reference: int = 0
    n_current: int = 0
    importance: float = 1.0
    new_categories: list[str] = Field(default_factory=list)
    missing_categories: list[str] = Field(default_factory=list)
    histogram: Histogram | None = None


class QualityIssue(_Model):
    """A data-quality finding on the current data."""

    check: Literal["null_rate", "out_of_range", "type_errors", "row_count", "all_null"]
    column: str | None
    severity: Literal["warning", "error"]
    value: float
    expected: float
    message: str


class MultivariateDrift(_Model):
    """Domain classifier (reference vs current) on bounded samples."""

    method: str
    auc: float | None = None
    auc_low: float | None = None
    auc_high: float | None = None
    p_value: float | None = None
    min_auc: float
    n_reference: int = 0
    n_current: int = 0
    top_features: dict[str, float] = Field(default_factory=dict)
    drifted: bool = False
    verdict: FeatureVerdict


class SchemaMismatch(_Model):
    """Columns that do not line up between reference and current, by name."""

    missing_in_current: list[str] = Field(default_factory=list)
    unexpected_in_current: list[str] = Field(default_factory=list)


class DriftReport(_Model):
    """Everything :func:`shopml.monitor.compare` found; ``verdict`` is the dataset-level answer."""

    version: int = REPORT_VERSION
    created_at: str
    verdict: Verdict
    reasons: list[str]
    drift_share: float
    share_threshold: float
    alpha: float
    correction: str
    n_reference: int
    n_current: int
    features: list[FeatureDrift]
    prediction: FeatureDrift | None = None
    multivariate: MultivariateDrift | None = None
    quality: list[QualityIssue] = Field(default_factory=list)
    schema_mismatch: SchemaMismatch = Field(default_factory=SchemaMismatch)
    excluded: list[str] = Field(default_factory=list, description="features not tested (config exclude)")

    @property
    def drifted_features(self) -> list[str]:
        """Names of the features flagged as drifted."""
        return [f.name for f in self.features if f.drifted]

    @property
    def is_drift(self) -> bool:
        """True when the dataset verdict is ``drift``."""
        return self.verdict == "drift"

    def feature(self, name: str) -> FeatureDrift:
        """The result of one feature (KeyError naming the known ones)."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(f"feature '{name}' is not in the report (features: {[f.name for f in self.features]})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (stable, versioned)."""
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Inverse of :meth:`to_dict`."""
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str) -> DriftReport:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def to_html(self, title: str = "shopml drift report") -> str:
        """Self-contained HTML (Plotly inlined once): per feature the two distributions and the numbers."""
        from shopml.monitor.drift.html import render_report

        return render_report(self, title)

    def save(self, json_path: str | Path | None = None, html_path: str | Path | None = None) -> None:
        """Write the JSON and/or HTML forms."""
        if json_path is not None:
            Path(json_path).write_text(self.to_json(), encoding="utf-8")
        if html_path is not None:
            Path(html_path).write_text(self.to_html(), encoding="utf-8")
