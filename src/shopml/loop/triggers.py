"""Triggers: drift, performance, schedule and new labels, each turned into the same retrain request.

Debounce works on *episodes*: qualifying signals closer than ``episode_gap`` to the previous one form one
episode, and an episode fires once (after ``min_events`` signals). An episode still going on may fire
again only if its retrain was rejected or failed and the cooldown has passed (``retry_rejected``); each
further retry of the same episode waits ``retry_backoff`` times longer.
Cooldown: no trigger fires within ``cooldown`` of the last retrain. Evaluation is a pure function of the
event log, the saved state and ``now``, so re-running it after a crash decides the same thing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from croniter import croniter
from pydantic import BaseModel, Field

from shopml.journal.events import Event
from shopml.loop.policy import SEVERITY_ORDER, LoopPolicy

if TYPE_CHECKING:
    from shopml.loop.state import LoopState

__all__ = ["Firing", "RetrainRequest", "drift_features", "evaluate_triggers", "performance_drop"]


class RetrainRequest(BaseModel):
    """Why and when to retrain; every trigger produces this same shape."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    time: datetime
    reasons: list[str]
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    event_ids: list[str] = Field(default_factory=list)


@dataclass
class Firing:
    """One trigger that fired in this pass."""

    trigger: str
    episode_key: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)

    @staticmethod
    def merge(firings: Sequence[Firing], now: datetime) -> RetrainRequest:
        """One request carrying every reason that fired at ``now``."""
        return RetrainRequest(
            time=now,
            reasons=[f.trigger for f in firings],
            summary="; ".join(f.summary for f in firings),
            evidence={f.trigger: f.evidence for f in firings},
            event_ids=[i for f in firings for i in f.event_ids],
        )


def drift_features(evidence: dict[str, Any]) -> list[str]:
    """Drifted feature names in a drift event's evidence (``drifted_features``/``features``: list or map)."""
    for key in ("drifted_features", "features", "drifted"):
        value = evidence.get(key)
        if isinstance(value, list):
            return [str(v if not isinstance(v, dict) else v.get("feature", v.get("name"))) for v in value]
        if isinstance(value, dict):
            return [str(k) for k, v in value.items() if not isinstance(v, dict) or v.get("drifted", True)]
    return []


def _num(evidence: dict[str, Any], *keys: str) -> float | None:
    for k in keys:
        v = evidence.get(k)
        if isinstance(v, int | float):
            return float(v)
    return None


def _lower_is_better(metric: str) -> bool:
    """Whether ``metric`` is an error (lower is better) for the model kinds that report it."""
    from shopml.kinds import KINDS

    return any(metric in k.lower_is_better for k in KINDS.values())


def performance_drop(event: Event, policy: LoopPolicy) -> dict[str, Any] | None:
    """Evidence of a drop beyond tolerance in a ``performance`` event, or ``None`` if it does not qualify.

    Reads the monitor's evidence (``source`` realised/estimated/stream, ``metric``, ``value``, ``low``,
    ``high``, ``reference``). A drop qualifies when the interval's upper bound (``require_ci``) or the
    point value lies below ``reference * (1 - tolerance)``; for a lower-is-better metric (MAE, log-loss)
    when the lower bound or the point value lies above ``reference * (1 + tolerance)``. A stream-detector
    alarm qualifies if ``use_stream``.
    """
    cfg = policy.triggers.performance
    ev = event.evidence
    source = str(ev.get("source", "realised"))
    if source == "stream":
        return {"source": "stream", "detected_at": ev.get("detected_at")} if cfg.use_stream else None
    if source == "estimated" and not cfg.use_estimated:
        return None
    metric = str(ev.get("metric", cfg.metric or "pr_auc"))
    if cfg.metric is not None and metric != cfg.metric:
        return None
    lower = _lower_is_better(metric)
    value = _num(ev, "value", "estimate")
    baseline = _num(ev, "reference", "baseline")
    bound = _num(ev, "low", "ci_low") if lower else _num(ev, "high", "ci_high")
    if value is None or baseline is None or (cfg.require_ci and bound is None):
        return None
    checked = bound if cfg.require_ci and bound is not None else value
    if lower:
        limit = baseline * (1.0 + cfg.tolerance)
        if checked <= limit:
            return None
        return {
            "source": source,
            "metric": metric,
            "value": value,
            "low": bound,
            "reference": baseline,
            "limit": limit,
        }
    limit = baseline * (1.0 - cfg.tolerance)
    if checked >= limit:
        return None
    return {
        "source": source,
        "metric": metric,
        "value": value,
        "high": bound,
        "reference": baseline,
        "limit": limit,
    }


def _episodes(events: list[Event], gap_s: float) -> list[list[Event]]:
    out: list[list[Event]] = []
    for ev in sorted(events, key=lambda e: e.ts):
        if out and (ev.ts - out[-1][-1].ts).total_seconds() <= gap_s:
            out[-1].append(ev)
        else:
            out.append([ev])
    return out


def _episode_firing(
    name: str,
    qualifying: list[tuple[Event, dict[str, Any]]],
    state: LoopState,
    policy: LoopPolicy,
    now: datetime,
) -> Firing | None:
    trig = policy.triggers
    if not qualifying:
        return None
    evidence_of = {e.id: ev for e, ev in qualifying}
    episodes = _episodes([e for e, _ in qualifying], trig.episode_gap.total_seconds())
    current = episodes[-1]
    if (now - current[-1].ts) > trig.episode_gap:
        return None  # the last episode is over
    min_events = {"drift": trig.drift.min_events, "performance": trig.performance.min_events}.get(name, 1)
    if len(current) < min_events:
        return None
    key = f"{name}:{current[0].id}"
    fired = state.episode(key)
    if fired is not None:
        retry = trig.retry_rejected and fired.outcome in {"rejected", "failed", "no_decision"}
        tries = sum(ep.key == key for ep in state.episodes)
        wait = trig.cooldown * min(trig.retry_backoff ** (tries - 1), 64.0)
        if not retry or now - fired.fired_at < wait:
            return None
    last = current[-1]
    return Firing(
        trigger=name,
        episode_key=key,
        summary=f"{name}: {last.summary}"
        + (f" ({len(current)} events in episode)" if len(current) > 1 else ""),
        evidence={
            "episode_start": current[0].ts.isoformat(),
            "events": len(current),
            "last": evidence_of[last.id],
        },
        event_ids=[e.id for e in current][-10:],
    )


def evaluate_triggers(
    events: list[Event],
    state: LoopState,
    policy: LoopPolicy,
    now: datetime,
    count_new_labels: Callable[[datetime | None, datetime], int] | None = None,
    champion_version: int | None = None,
) -> list[Firing]:
    """Every trigger that fires at ``now`` (empty during cooldown). Events after ``now`` are ignored, and
    so are performance events about another model version than ``champion_version`` (when both are
    known): a new champion's performance starts afresh. Drift events are about the world, not a version:
    a drift episode goes on across a promotion, so one episode starts one retrain (plus the retries of
    ``retry_rejected``), however often the champion changes while the world keeps moving."""
    trig = policy.triggers
    if state.last_retrain_at is not None and now - state.last_retrain_at < trig.cooldown:
        return []
    seen = [
        e
        for e in events
        if e.ts <= now
        and (e.model is None or e.model == policy.model)
        and (
            e.kind == "drift"
            or champion_version is None
            or e.evidence.get("model_version") in (None, champion_version)
        )
    ]
    firings: list[Firing] = []
    if trig.drift.enabled:
        floor = SEVERITY_ORDER.index(trig.drift.min_severity)
        wanted = set(trig.drift.features)
        drift: list[tuple[Event, dict[str, Any]]] = []
        for e in seen:
            if e.kind != "drift" or SEVERITY_ORDER.index(e.severity) < floor:
                continue
            feats = drift_features(e.evidence)
            hit = sorted(set(feats) & wanted) if wanted else feats
            if wanted and not hit:
                continue
            drift.append((e, {"features": hit, "severity": e.severity}))
        f = _episode_firing("drift", drift, state, policy, now)
        if f:
            firings.append(f)
    if trig.performance.enabled:
        perf = [(e, d) for e in seen if e.kind == "performance" and (d := performance_drop(e, policy))]
        f = _episode_firing("performance", perf, state, policy, now)
        if f:
            firings.append(f)
    if trig.schedule.enabled and state.schedule_checked_at is not None:
        due: datetime = croniter(trig.schedule.cron, state.schedule_checked_at).get_next(datetime)
        if due <= now:
            firings.append(
                Firing(
                    "schedule",
                    f"schedule:{due.isoformat()}",
                    f"schedule: '{trig.schedule.cron}' due at {due}",
                    {"cron": trig.schedule.cron, "due": due.isoformat()},
                )
            )
    if trig.new_labels.enabled and count_new_labels is not None:
        n = count_new_labels(state.last_retrain_at, now)
        if n >= trig.new_labels.min_rows:
            firings.append(
                Firing(
                    "new_labels",
                    f"new_labels:{now.isoformat()}",
                    f"new_labels: {n} labelled rows since the last retrain (>= {trig.new_labels.min_rows})",
                    {"new_rows": n, "min_rows": trig.new_labels.min_rows},
                )
            )
    return firings
