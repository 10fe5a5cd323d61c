"""The closed loop: one pass = resume the retrain in flight, or read the signals and maybe start one.

A pass takes the loop lock, loads the journal (:mod:`shopml.loop.state`), resumes an interrupted retrain
(:mod:`shopml.loop.retrain`), optionally runs the monitor, then evaluates the triggers
(:mod:`shopml.loop.triggers`). A fired request is saved before anything else happens.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from shopml.config import Workspace
from shopml.errors import DataError, NotFoundError
from shopml.journal import rollback as roll_back_champion
from shopml.journal.events import Event, EventStore
from shopml.loop.audit import Audit
from shopml.loop.challenger import Trainer, train_challenger
from shopml.loop.clock import Clock, SystemClock, as_utc
from shopml.loop.lock import LoopLock
from shopml.loop.policy import LoopPolicy
from shopml.loop.retrain import FAILPOINT_ENV, BundleSteps, Retrainer, failpoint
from shopml.loop.state import Episode, Job, LoopState, StateStore
from shopml.loop.triggers import Firing, evaluate_triggers
from shopml.loop.window import count_new_labels

__all__ = ["FAILPOINT_ENV", "Loop", "rollback"]

log = logging.getLogger(__name__)
SIGNALS = ("drift", "performance")


def _registry(workspace: Workspace) -> Any:
    from shopml.registry import Registry  # type: ignore[attr-defined]

    return Registry(workspace)


class Loop:
    """The retrain loop of one model in one workspace, on an injectable clock."""

    def __init__(
        self,
        workspace: Workspace | Path | str,
        policy: LoopPolicy | None = None,
        clock: Clock | None = None,
        *,
        registry: Any = None,
        trainer: Trainer | BundleSteps | None = None,
    ) -> None:
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
        self.policy = policy or LoopPolicy()
        self.clock = clock or SystemClock()
        self._registry = registry
        self.dir = self.workspace.root / "loop" / self.policy.model
        self.state_store = StateStore(self.dir / "state.json")
        self.lock = LoopLock(self.dir / "loop.lock")
        self.store = EventStore(self.workspace)
        self.gate_dir = self.workspace.reports_dir / "gate"
        self.audit = Audit(self.store, self.policy.model, self.policy.webhook)
        self.retrainer = Retrainer(
            self.policy,
            self.state_store,
            self.audit,
            lambda: self.registry,
            trainer or train_challenger,
            self.dir / "runs",
            self.gate_dir,
        )

    @property
    def registry(self) -> Any:
        """The registry (opened on first use)."""
        if self._registry is None:
            self._registry = _registry(self.workspace)
        return self._registry

    def state(self) -> LoopState:
        """The saved journal."""
        return self.state_store.load()

    # ----------------------------------------------------------------------------------------------
    def step(self, now: datetime | str | None = None) -> list[Event]:
        """One pass at ``now`` (default: the clock). Returns the events it appended."""
        when = as_utc(now, "now") if now is not None else self.clock.now()
        emitted: list[Event] = []
        with self.lock:
            state = self.state_store.load()
            if state.first_seen is None:
                state.first_seen = when
            if state.current is not None:
                emitted += self.retrainer.run(state, when)
            emitted += self._monitor(when)
            events = self.store.read(model=self.policy.model)
            versioned = any(e.kind in SIGNALS and "model_version" in e.evidence for e in events)
            firings = evaluate_triggers(
                events,
                state,
                self.policy,
                when,
                lambda since, until: count_new_labels(self.policy.data, since or state.first_seen, until),
                champion_version=self._champion_version() if versioned else None,  # MLflow only if needed
            )
            state.schedule_checked_at = when
            if firings and state.current is None:
                request = Firing.merge(firings, when)
                for f in firings:
                    state.episodes.append(
                        Episode(key=f.episode_key, trigger=f.trigger, fired_at=when, request_id=request.id)
                    )
                state.current = Job(request=request)
                state.last_retrain_at = when
                self.state_store.save(state)  # the request is on disk before anything else happens
                failpoint("requested")
                emitted += self.retrainer.run(state, when)
            self.state_store.save(state)
        return emitted

    def _monitor(self, now: datetime) -> list[Event]:
        """Run the monitor first when the policy asks; a model without a prediction log is skipped."""
        if not self.policy.monitor.enabled:
            return []
        from shopml.monitor.job import run_monitor

        try:
            result = run_monitor(self.workspace, self.policy.model, self.policy.monitor.window, now)
        except (NotFoundError, DataError) as exc:
            log.warning("monitor skipped for %s: %s", self.policy.model, exc)
            return []
        return list(result.events)

    def retrain(self, reason: str = "manual", now: datetime | str | None = None) -> list[Event]:
        """Force a retrain now (a ``manual`` trigger), through the same steps and gate."""
        when = as_utc(now, "now") if now is not None else self.clock.now()
        firing = Firing("manual", f"manual:{when.isoformat()}", f"manual: {reason}", {"reason": reason})
        with self.lock:
            state = self.state_store.load()
            emitted = self.retrainer.run(state, when) if state.current is not None else []
            request = Firing.merge([firing], when)
            state.current = Job(request=request)
            state.last_retrain_at = when
            self.state_store.save(state)
            emitted += self.retrainer.run(state, when)
            self.state_store.save(state)
        return emitted

    # ----------------------------------------------------------------------------------------------

    def _champion_version(self) -> int | None:
        try:
            version = self.registry.aliases(self.policy.model).get("champion")
        except NotFoundError:
            return None
        return int(version) if version is not None else None


def rollback(loop: Loop, reason: str, now: datetime | None = None) -> Event:
    """Roll the champion back one step in the registry and record a ``rollback`` event
    (:func:`shopml.journal.rollback`, the same operation as ``shopml models rollback``)."""
    move = roll_back_champion(
        loop.registry, loop.store, loop.policy.model, reason=reason, actor="loop", ts=now or loop.clock.now()
    )
    assert move.event is not None  # a rollback always writes its event
    loop.audit.publish(move.event)
    return move.event
