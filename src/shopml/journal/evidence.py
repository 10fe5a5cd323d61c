"""Typed evidence, one model per event kind.

An event's ``evidence`` is stored as a plain JSON object, and every reader keeps reading it as a dict;
what it may hold is declared here. :class:`~shopml.journal.events.Event` validates its evidence against
the model of its kind when it is made (a writer with a wrong type fails at once, naming the field) and
stores the canonical form: field names the models declare, old names renamed (a rollback written as
``{"from": 2, "to": 1}`` reads as ``{"previous": 2, "version": 1}``). Keys a model does not declare are
kept as they are, and kinds without a model (extensions) keep free-form evidence; an extension may
declare its own with :func:`register_evidence`.

>>> evidence_for("rollback", {"from": 2, "to": 1, "reason": "bad"})
{'version': 1, 'previous': 2, 'reason': 'bad'}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = [
    "EVIDENCE_MODELS",
    "ChampionEvidence",
    "DriftEvidence",
    "Evidence",
    "GateEvidence",
    "PerformanceEvidence",
    "PromotionEvidence",
    "RetrainEvidence",
    "RollbackEvidence",
    "TriggerEvidence",
    "evidence_for",
    "register_evidence",
]

#: ISO 8601 time as written in evidence (kept a string: readers compare and display it as text).
IsoTime = str


class Evidence(BaseModel):
    """Base of every evidence model: undeclared keys are allowed and kept (extensions add their own)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _MonitorEvidence(Evidence):
    """What every monitoring event carries: its de-duplication key and the model version it watched."""

    key: str | None = None
    model_version: int | None = None
    window_seconds: float | None = None
    window_start: IsoTime | None = None


class DriftEvidence(_MonitorEvidence):
    """``drift``: the window and the features whose distribution moved."""

    window_end: IsoTime | None = None
    drifted_features: list[str] | dict[str, Any] | None = None
    reasons: list[str] | None = None
    drift_share: float | None = None
    rows: int | None = None


class PerformanceEvidence(_MonitorEvidence):
    """``performance``: a realised or estimated metric interval below its reference, or stream alarms."""

    source: Literal["realised", "estimated", "stream"] | None = None
    metric: str | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None
    reference: float | None = None
    reference_low: float | None = None
    baseline: float | dict[str, Any] | None = None
    pooled_from: IsoTime | None = None
    maturity: float | None = None
    rows: int | None = None
    detected_at: IsoTime | None = None
    alarms: list[dict[str, Any]] | None = None


class TriggerEvidence(Evidence):
    """``trigger``: the retrain request and the triggers that fired (each trigger's own evidence too)."""

    request_id: str
    reasons: list[str]


class RetrainEvidence(Evidence):
    """``retrain``: the challenger trained for a request (or the error that stopped it)."""

    request_id: str
    train_rows: int | None = None
    window: dict[str, Any] | None = None
    bundle: str | None = None
    test_pr_auc: float | None = None
    error: str | None = None


class GateEvidence(Evidence):
    """``gate``: the verdict on a challenger version against the champion."""

    request_id: str | None = None
    version: int
    verdict: str
    rule: str | None = None
    challenger: Any = None
    champion: Any = None
    bootstrap: dict[str, Any] | None = None


class ChampionEvidence(Evidence):
    """A champion alias move: ``version`` is the champion afterwards, ``previous`` the one before.

    One shape for the CLI and the loop. Old files spell a rollback ``{"from": ..., "to": ...}``; those
    names are read as ``previous`` and ``version``.
    """

    version: int = Field(validation_alias=AliasChoices("version", "to"))
    previous: int | None = Field(default=None, validation_alias=AliasChoices("previous", "from"))
    reason: str = ""
    actor: str | None = None
    request_id: str | None = None
    reasons: list[str] | None = None


class PromotionEvidence(ChampionEvidence):
    """``promotion``: a version made champion (by the gate or by hand)."""


class RollbackEvidence(ChampionEvidence):
    """``rollback``: the previous champion restored."""


#: The evidence model of each kind; kinds not listed keep free-form evidence.
EVIDENCE_MODELS: dict[str, type[Evidence]] = {
    "drift": DriftEvidence,
    "performance": PerformanceEvidence,
    "trigger": TriggerEvidence,
    "retrain": RetrainEvidence,
    "gate": GateEvidence,
    "promotion": PromotionEvidence,
    "rollback": RollbackEvidence,
}


def register_evidence(kind: str, model: type[Evidence]) -> None:
    """Declare the evidence model of an extension kind (a kind shopml writes cannot be redefined)."""
    current = EVIDENCE_MODELS.get(kind)
    if current is not None and current is not model:
        raise ValueError(f"event kind {kind!r} already has evidence model {current.__name__}")
    EVIDENCE_MODELS[kind] = model


def evidence_for(kind: str, data: dict[str, Any] | Evidence) -> dict[str, Any]:
    """``data`` validated against ``kind``'s model, in canonical form (only the keys that were given,
    old names renamed). Raises :class:`pydantic.ValidationError` naming the field."""
    model = EVIDENCE_MODELS.get(kind)
    if model is None:
        return data.model_dump(exclude_unset=True) if isinstance(data, Evidence) else dict(data)
    parsed = data if isinstance(data, model) else model.model_validate(_plain(data))
    return parsed.model_dump(exclude_unset=True)


def _plain(data: dict[str, Any] | Evidence) -> dict[str, Any]:
    return data.model_dump(exclude_unset=True) if isinstance(data, Evidence) else data
