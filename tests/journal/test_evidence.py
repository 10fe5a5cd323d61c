"""Typed evidence per event kind: checked on write, old key names accepted on read, extensions free."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shopml.journal import (
    EVIDENCE_MODELS,
    Event,
    EventStore,
    Evidence,
    GateEvidence,
    RollbackEvidence,
    register_evidence,
)

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _line(kind: str, evidence: dict[str, Any], **extra: Any) -> str:
    """One event line as an older shopml wrote it (plain JSON, no validation on this side)."""
    base = {"id": f"{kind}-{len(evidence)}", "ts": T0.isoformat(), "kind": kind, "model": "fraud"}
    return json.dumps({**base, "severity": "info", "summary": kind, "evidence": evidence, **extra})


def test_every_built_in_kind_has_a_model() -> None:
    from shopml.journal import EVENT_KINDS

    assert set(EVENT_KINDS) <= set(EVIDENCE_MODELS)


def test_wrong_type_on_write_names_the_field() -> None:
    with pytest.raises(ValidationError, match=r"gate event evidence field 'version'.*'two'"):
        Event(kind="gate", summary="x", evidence={"version": "two", "verdict": "promote"})
    with pytest.raises(ValidationError, match="promotion event evidence field 'version': Field required"):
        Event(kind="promotion", summary="x", evidence={"previous": 1})
    with pytest.raises(ValidationError, match="trigger event evidence field 'reasons'"):
        Event(kind="trigger", summary="x", evidence={"request_id": "r1", "reasons": "drift"})


def test_evidence_is_stored_canonical_and_keeps_extra_keys() -> None:
    event = Event(kind="drift", summary="x", evidence={"model_version": "3", "psi_amount": 0.4})
    assert event.evidence == {"model_version": 3, "psi_amount": 0.4}
    typed = Event(kind="gate", summary="x", evidence=GateEvidence(version=2, verdict="promote")).details()
    assert isinstance(typed, GateEvidence) and typed.version == 2 and typed.champion is None


def test_extension_kinds_stay_free_form_and_may_declare_a_model() -> None:
    event = Event(kind="price_change", summary="x", evidence={"sku": 12, "delta": "-5%"})
    assert event.evidence == {"sku": 12, "delta": "-5%"} and type(event.details()) is Evidence

    class CanaryEvidence(Evidence):
        share: float

    register_evidence("canary_test", CanaryEvidence)
    try:
        with pytest.raises(ValidationError, match="canary_test event evidence field 'share'"):
            Event(kind="canary_test", summary="x", evidence={"share": "half"})
        assert Event(kind="canary_test", summary="x", evidence={"share": 0.1}).evidence == {"share": 0.1}
        with pytest.raises(ValueError, match="already has evidence model RollbackEvidence"):
            register_evidence("rollback", CanaryEvidence)
    finally:
        del EVIDENCE_MODELS["canary_test"]


def test_old_event_files_read_unchanged_with_old_rollback_keys(tmp_path: Path) -> None:
    """Both rollback shapes older versions wrote, plus an event whose evidence no longer fits."""
    store = EventStore(tmp_path)
    store.path.parent.mkdir(parents=True)
    lines = [
        _line("drift", {"key": "drift:2026-05-01:v1", "model_version": 1, "drifted_features": ["amount"]}),
        _line("promotion", {"request_id": "r1", "version": 2, "previous": 1, "reasons": ["drift"]}),
        _line("rollback", {"from": 2, "to": 1, "reason": "bad promotion"}),  # the loop's old shape
        _line("rollback", {"version": 2, "previous": 1, "reason": "", "actor": "cli"}),  # the CLI's
        _line("gate", {"verdict": "promote"}, id="unfit"),  # no version: kept as written
    ]
    store.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = store.read(model="fraud")
    assert [e.kind for e in events] == ["drift", "promotion", "rollback", "rollback", "gate"]
    loop_rollback, cli_rollback = events[2], events[3]
    assert loop_rollback.evidence == {"version": 1, "previous": 2, "reason": "bad promotion"}
    assert cli_rollback.evidence == {"version": 2, "previous": 1, "reason": "", "actor": "cli"}
    details = loop_rollback.details()
    assert isinstance(details, RollbackEvidence) and (details.version, details.previous) == (1, 2)
    assert events[4].evidence == {"verdict": "promote"}
    assert events[0].evidence["drifted_features"] == ["amount"]
    # the file itself is not rewritten
    assert store.path.read_text(encoding="utf-8").splitlines() == lines
