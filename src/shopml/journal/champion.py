"""Promote and roll back: the champion alias flip and its journal event, as one operation.

``shopml models promote|rollback`` and the loop both call these, so every champion move is written in
one shape (:class:`~shopml.journal.evidence.ChampionEvidence`: ``version`` is the champion afterwards,
``previous`` the one before) and every reader (the dashboard's champion timeline, the demo) sees all of
them, whoever made the move.

The registry is passed in (anything with ``aliases``, ``promote`` and ``rollback`` like
:class:`shopml.registry.Registry`), so this module imports no MLflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shopml.journal.events import Event, EventStore, Severity
from shopml.journal.evidence import PromotionEvidence, RollbackEvidence

__all__ = ["ChampionMove", "ChampionRegistry", "promote", "rollback"]

CHAMPION = "champion"


class ChampionRegistry(Protocol):
    """The part of the registry a champion move needs."""

    def aliases(self, name: str) -> dict[str, int]: ...

    def promote(self, name: str, version: int | str, reason: str = "") -> Any: ...

    def rollback(self, name: str, reason: str = "") -> Any: ...


@dataclass(frozen=True)
class ChampionMove:
    """The outcome: the champion after (``version``) and before (``previous``) and the event written
    (``None`` when nothing moved, or when ``event_id`` was journalled already)."""

    model: str
    version: int
    previous: int | None
    event: Event | None

    @property
    def changed(self) -> bool:
        """Whether the champion alias names another version than before."""
        return self.version != self.previous


def _append_once(store: EventStore, event: Event, event_id: str | None) -> Event | None:
    if event_id is not None and any(e.id == event_id for e in store.read(model=event.model)):
        return None  # resumed after the event was written: once only
    return store.append(event)


def _by(actor: str) -> str:
    return "" if actor == "loop" else f" ({actor})"


def _stamp(ts: datetime | None, event_id: str | None) -> dict[str, Any]:
    """The optional fields of an event: its time and a deterministic id."""
    out: dict[str, Any] = {}
    if ts is not None:
        out["ts"] = ts
    if event_id is not None:
        out["id"] = event_id
    return out


def promote(
    registry: ChampionRegistry,
    store: EventStore,
    model: str,
    version: int,
    *,
    reason: str = "",
    actor: str = "cli",
    ts: datetime | None = None,
    event_id: str | None = None,
    previous: int | None = None,
    request_id: str | None = None,
    reasons: Sequence[str] | None = None,
    links: Sequence[str] = (),
    after_move: Callable[[], None] | None = None,
) -> ChampionMove:
    """Make ``version`` the champion of ``model`` and journal a ``promotion`` event.

    Without ``event_id`` a version that is champion already is left alone and nothing is written. With
    ``event_id`` (the loop: a deterministic id) the move is idempotent: a resumed call moves nothing twice
    and writes the event once; ``previous`` then names the champion before, when the alias had already
    moved. ``after_move`` runs between the alias flip and the event (a crash-test seam).
    """
    before = registry.aliases(model).get(CHAMPION)
    if before == version and event_id is None:
        return ChampionMove(model, version, before, None)
    if before == version:
        before = previous
    registry.promote(model, version, reason=reason)
    if after_move is not None:
        after_move()
    evidence = PromotionEvidence(
        version=version,
        previous=before,
        reason=reason,
        actor=actor,
        request_id=request_id,
        reasons=list(reasons) if reasons is not None else None,
    )
    old = f"v{before}" if before is not None else "none"
    event = Event(
        kind="promotion",
        model=model,
        severity="info",
        summary=f"v{version} promoted to champion (was {old}){_by(actor)}",
        evidence={**evidence.model_dump(exclude_none=True), "previous": before},
        links=list(links),
        **_stamp(ts, event_id),
    )
    return ChampionMove(model, version, before, _append_once(store, event, event_id))


def rollback(
    registry: ChampionRegistry,
    store: EventStore,
    model: str,
    *,
    reason: str = "",
    actor: str = "cli",
    ts: datetime | None = None,
) -> ChampionMove:
    """Restore the previous champion of ``model`` and journal a ``rollback`` event (severity warning).

    Raises :class:`~shopml.errors.NotFoundError` (from the registry) when there is nothing to go back to.
    """
    before = registry.aliases(model).get(CHAMPION)
    info = registry.rollback(model, reason=reason)
    version = int(info.version)
    evidence = RollbackEvidence(version=version, previous=before, reason=reason, actor=actor)
    severity: Severity = "warning"
    event = Event(
        kind="rollback",
        model=model,
        severity=severity,
        summary=f"rolled back v{before} → v{version}{_by(actor)}" + (f": {reason}" if reason else ""),
        evidence={**evidence.model_dump(exclude_none=True), "previous": before},
        **_stamp(ts, None),
    )
    return ChampionMove(model, version, before, store.append(event))
