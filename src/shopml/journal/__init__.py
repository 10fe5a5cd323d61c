"""The event journal: the append-only record of what happened to each model, shared by every step.

Events carry typed evidence per kind (:mod:`shopml.journal.evidence`); champion moves go through one
:func:`promote` and one :func:`rollback` (:mod:`shopml.journal.champion`), used by the CLI and the loop.
"""

from __future__ import annotations

from shopml.journal.champion import ChampionMove, ChampionRegistry, promote, rollback
from shopml.journal.events import EVENT_KINDS, EVENTS_FILE, SEVERITIES, Event, EventStore, Severity
from shopml.journal.evidence import (
    EVIDENCE_MODELS,
    ChampionEvidence,
    DriftEvidence,
    Evidence,
    GateEvidence,
    PerformanceEvidence,
    PromotionEvidence,
    RetrainEvidence,
    RollbackEvidence,
    TriggerEvidence,
    evidence_for,
    register_evidence,
)

__all__ = [
    "EVENTS_FILE",
    "EVENT_KINDS",
    "EVIDENCE_MODELS",
    "SEVERITIES",
    "ChampionEvidence",
    "ChampionMove",
    "ChampionRegistry",
    "DriftEvidence",
    "Event",
    "EventStore",
    "Evidence",
    "GateEvidence",
    "PerformanceEvidence",
    "PromotionEvidence",
    "RetrainEvidence",
    "RollbackEvidence",
    "Severity",
    "TriggerEvidence",
    "evidence_for",
    "promote",
    "register_evidence",
    "rollback",
]
