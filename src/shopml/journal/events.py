"""The event store: an append-only JSON Lines log of what happened to each model.

Monitoring appends ``drift`` and ``performance`` events; the loop appends ``trigger``, ``retrain``,
``gate``, ``promotion`` and ``rollback`` events and reads them back. One file,
``workspace/events/events.jsonl``; each line is one :class:`Event`.

Concurrency and crashes: every append takes an exclusive ``fcntl.flock`` on the file, writes the whole
line with one ``write`` call and ``fsync``\\ s. A writer that died mid-line leaves a torn last line; the next
append first terminates it with a newline, and :meth:`EventStore.read` skips lines that do not parse, so
a torn line never corrupts the events before or after it.

Evidence is typed per kind (:mod:`shopml.journal.evidence`): checked when an event is made, read back in
canonical form (old key names renamed). An event read from the file whose evidence no longer fits its
model is kept as written, with a logged warning: the journal never drops history.

>>> import tempfile
>>> from pathlib import Path
>>> store = EventStore(Path(tempfile.mkdtemp()))
>>> _ = store.append(Event(kind="drift", model="fraud", severity="warning", summary="amount shifted"))
>>> [e.summary for e in store.read(kind="drift")]
['amount shifted']
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shopml.config import Workspace
from shopml.journal.evidence import EVIDENCE_MODELS, Evidence, evidence_for
from shopml.times import as_utc

__all__ = ["EVENTS_FILE", "EVENT_KINDS", "SEVERITIES", "Event", "EventStore", "Severity"]

log = logging.getLogger(__name__)

EVENTS_FILE = "events.jsonl"
#: The kinds the parts of shopml write (contract 6). Other lowercase names are allowed for extensions.
EVENT_KINDS = ("drift", "performance", "trigger", "retrain", "gate", "promotion", "rollback")
Severity = Literal["info", "warning", "critical"]
#: Severities in increasing order.
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """One thing that happened: what (``kind``, ``summary``), when (``ts``), to which model, how bad
    (``severity``) and why (``evidence``: numbers; ``links``: report paths, other event ids)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=_new_id, min_length=1)
    ts: datetime = Field(default_factory=_now)
    kind: str
    model: str | None = None
    severity: Severity = "info"
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list)

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        if not _KIND.match(value):
            raise ValueError(f"event kind must be a lowercase name like {EVENT_KINDS}, got {value!r}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _typed_evidence(cls, data: Any, info: ValidationInfo) -> Any:
        """Validate ``evidence`` against its kind's model; keep it as written when reading a file."""
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return data
        evidence = data.get("evidence", {})
        if not isinstance(evidence, dict | Evidence):
            return data
        try:
            return {**data, "evidence": evidence_for(data["kind"], evidence)}
        except ValidationError as exc:
            if not (info.context or {}).get("lenient"):
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(
                    f"{data['kind']} event evidence field {where!r}: {first['msg']} "
                    f"(got {repr(first.get('input'))[:80]})"
                ) from None
            log.warning(
                "%s event %s: evidence does not fit its model; kept as written", data["kind"], data.get("id")
            )
            return data

    def details(self) -> Evidence:
        """The evidence as its kind's typed model (a plain :class:`Evidence` for extension kinds)."""
        return EVIDENCE_MODELS.get(self.kind, Evidence).model_validate(self.evidence)

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(f"event time must be timezone-aware (UTC), got naive {value.isoformat()}")
        return value.astimezone(UTC)

    def to_line(self) -> bytes:
        """The JSON Lines form (one line, newline-terminated)."""
        return (self.model_dump_json() + "\n").encode("utf-8")


def _as_utc(value: datetime | str | None, name: str) -> datetime | None:
    return None if value is None else as_utc(value, name)


class EventStore:
    """Append and read events of one workspace (``workspace`` may be a :class:`Workspace` or its root)."""

    def __init__(self, workspace: Workspace | Path | str) -> None:
        ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
        self.workspace = ws
        self.path = ws.events_dir / EVENTS_FILE

    def append(self, event: Event) -> Event:
        """Append one event atomically with respect to other writers; returns it."""
        return self.extend([event])[0]

    def extend(self, events: Iterable[Event]) -> list[Event]:
        """Append several events under one lock (each still one line)."""
        items = list(events)
        if not items:
            return items
        data = b"".join(e.to_line() for e in items)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # terminate a torn line left by a crashed writer
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return items

    def read(
        self,
        kind: str | Iterable[str] | None = None,
        model: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> list[Event]:
        """Events in append order, filtered by kind(s), model and ``since <= ts < until``.

        Lines that do not parse (a writer crashed mid-line) are skipped with a logged warning.
        """
        kinds = {kind} if isinstance(kind, str) else (set(kind) if kind is not None else None)
        lo, hi = _as_utc(since, "since"), _as_utc(until, "until")
        if not self.path.exists():
            return []
        with self.path.open("rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
            try:
                raw = fh.read()
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        out: list[Event] = []
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                event = Event.model_validate(json.loads(line), context={"lenient": True})
            except (ValueError, ValidationError):
                log.warning("%s line %d: not a valid event (torn write?); skipped", self.path, number)
                continue
            if kinds is not None and event.kind not in kinds:
                continue
            if model is not None and event.model != model:
                continue
            if (lo is not None and event.ts < lo) or (hi is not None and event.ts >= hi):
                continue
            out.append(event)
        return out

    def latest(self, kind: str | Iterable[str] | None = None, model: str | None = None) -> Event | None:
        """The last appended event matching the filters, or ``None``."""
        events = self.read(kind=kind, model=model)
        return events[-1] if events else None
