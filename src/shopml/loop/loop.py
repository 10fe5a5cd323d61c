"""The closed loop: one idempotent pass = read signals, maybe retrain, gate, promote; all journalled.

A pass takes the loop lock, loads the journal (:mod:`shopml.loop.state`) and either resumes the retrain in
flight or evaluates the triggers. A retrain runs through recorded steps, each saved *before* the next
side effect: ``requested`` (request saved, trigger event) → ``trained`` (bundle on disk) → ``registered``
(registry version tagged ``shopml.retrain_id``) → ``gated`` (decision and report saved) → ``promoted``
(alias moved) → done. Killed anywhere, the next pass resumes at the recorded step; every side effect is
idempotent, so the registry and the event store end up as if nothing had happened.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from shopml.config import Workspace
from shopml.errors import DataError, NotFoundError, NotReadyError, ShopmlError
from shopml.loop.audit import Audit
from shopml.loop.challenger import Trainer, train_challenger
from shopml.loop.clock import Clock, SystemClock, as_utc
from shopml.loop.gate import decide, write_gate_report
from shopml.loop.lock import LoopLock
from shopml.loop.policy import LoopPolicy
from shopml.loop.scoring import score_table
from shopml.loop.state import Episode, Job, LoopState, StateStore
from shopml.loop.triggers import Firing, evaluate_triggers
from shopml.loop.window import Split, count_new_labels, load_known, split_at
from shopml.monitor.events import Event, EventStore, Severity
from shopml.registry import ModelBundle

__all__ = ["FAILPOINT_ENV", "Loop", "rollback"]

log = logging.getLogger(__name__)
SIGNALS = ("drift", "performance")

#: Test hook: ``_SHOPML_LOOP_FAILPOINT=<name>`` SIGKILLs the process at that point (crash-safety tests).
FAILPOINT_ENV = "_SHOPML_LOOP_FAILPOINT"  # not SHOPML_*: settings reads those


def _failpoint(name: str) -> None:
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _data_end(bundle: ModelBundle) -> datetime | None:
    """The latest event time a bundle's training run used (from its split record), if recorded."""
    split = getattr(bundle.meta, "split", None)
    if not isinstance(split, dict):
        return None
    ends = []
    for part in split.values():
        if isinstance(part, dict) and "end" in part:
            try:
                t = datetime.fromisoformat(str(part["end"]))
            except ValueError:
                continue
            ends.append(t if t.tzinfo else t.replace(tzinfo=UTC))
    return max(ends) if ends else None


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
        trainer: Trainer | None = None,
    ) -> None:
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
        self.policy = policy or LoopPolicy()
        self.clock = clock or SystemClock()
        self._registry = registry
        self.trainer: Trainer = trainer or train_challenger
        self.dir = self.workspace.root / "loop" / self.policy.model
        self.state_store = StateStore(self.dir / "state.json")
        self.lock = LoopLock(self.dir / "loop.lock", timedelta(hours=self.policy.stale_lock_hours))
        self.store = EventStore(self.workspace)
        self.gate_dir = self.workspace.reports_dir / "gate"
        self.audit = Audit(self.store, self.policy.model, self.policy.webhook)

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
                emitted += self._run(state, when)
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
                _failpoint("requested")
                emitted += self._run(state, when)
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
            emitted = self._run(state, when) if state.current is not None else []
            request = Firing.merge([firing], when)
            state.current = Job(request=request)
            state.last_retrain_at = when
            self.state_store.save(state)
            emitted += self._run(state, when)
            self.state_store.save(state)
        return emitted

    # ----------------------------------------------------------------------------------------------
    def _split(self, job: Job) -> Split:
        p = self.policy
        table = load_known(p.data, job.request.time)
        return split_at(table, p.data, p.window, p.gate, job.request.time)

    def _run(self, state: LoopState, now: datetime) -> list[Event]:
        job = state.current
        if job is None:
            return []
        out: list[Event] = []
        req = job.request
        severity: Severity = "warning" if {"drift", "performance"} & set(req.reasons) else "info"
        ev = self.audit.emit(
            f"{req.id}-trigger",
            "trigger",
            f"retrain requested: {req.summary}",
            ts=req.time,
            severity=severity,
            evidence={"request_id": req.id, "reasons": req.reasons, **req.evidence},
            links=req.event_ids,
            topic="drift" if "drift" in req.reasons else "trigger",
        )
        out += [ev] if ev else []
        try:
            if job.step == "requested":
                self._train(job)
                self.state_store.save(state)
                _failpoint("trained")
            if job.step == "trained":
                out += self._emit_retrain(job, now)
                self._register(job)
                self.state_store.save(state)
                _failpoint("registered")
            if job.step == "registered":
                self._gate(job, now)
                self.state_store.save(state)
                _failpoint("gated")
            if job.step == "gated":
                out += self._emit_gate(job, now)  # written once, also when resumed after the decision
                verdict = str((job.decision or {}).get("verdict", "failed"))
                if verdict == "promote":
                    out += self._promote(job, now)
                    job.step = "promoted"
                    self.state_store.save(state)
                    _failpoint("promoted")
                    state.finish("promoted")
                else:
                    state.finish("rejected" if verdict == "reject" else verdict)
            elif job.step == "promoted":
                out += self._promote(job, now)  # resumed: idempotent alias move, event written once
                state.finish("promoted")
        except ShopmlError as exc:
            if isinstance(exc, NotReadyError):
                raise  # transient (registry busy, lock): the next pass resumes this step
            # a known failure (too little data, bad config, schema mismatch): recorded, not retried
            job.error = str(exc)
            ev = self.audit.emit(
                f"{req.id}-failed",
                "retrain",
                f"retrain failed: {exc}",
                ts=now,
                severity="warning",
                evidence={"request_id": req.id, "error": str(exc)},
            )
            out += [ev] if ev else []
            state.finish("failed")
        self.state_store.save(state)
        return out

    def _train(self, job: Job) -> None:
        split = self._split(job)
        run_dir = self.dir / "runs" / job.request.id
        if run_dir.exists():
            shutil.rmtree(run_dir)  # a half-written bundle from a killed pass
        run_dir.mkdir(parents=True)
        bundle_dir = self.trainer(
            split.train, split.weights, self.policy, run_dir / "bundle", job.request.time
        )
        job.bundle_dir = str(bundle_dir)
        job.train_rows = split.train.num_rows
        job.step = "trained"

    def _emit_retrain(self, job: Job, now: datetime) -> list[Event]:
        bundle = ModelBundle.load(str(job.bundle_dir))
        pr_auc = bundle.meta.metrics.get("pr_auc")
        w = self.policy.window
        ev = self.audit.emit(
            f"{job.request.id}-retrain",
            "retrain",
            f"challenger trained on {job.train_rows} rows ({w.kind} window"
            + (f", {w.days:g} days" if w.kind == "sliding" else "")
            + (f", test PR-AUC {pr_auc:.3f})" if isinstance(pr_auc, float) else ")"),
            ts=now,
            evidence={
                "request_id": job.request.id,
                "train_rows": job.train_rows,
                "window": w.model_dump(),
                "bundle": job.bundle_dir,
                "test_pr_auc": pr_auc,
            },
            links=[str(Path(str(job.bundle_dir)) / "report.html")],
        )
        return [ev] if ev else []

    def _register(self, job: Job) -> None:
        name, req = self.policy.model, job.request
        existing = None
        try:
            existing = next(
                (v for v in self.registry.versions(name) if v.tags.get("shopml.retrain_id") == req.id), None
            )
        except NotFoundError:
            existing = None
        if existing is None:
            bundle = ModelBundle.load(str(job.bundle_dir))
            metrics = {k: float(v) for k, v in bundle.meta.metrics.items() if isinstance(v, int | float)}
            existing = self.registry.register(
                job.bundle_dir,
                params={"window": self.policy.window.kind, "window_days": self.policy.window.days},
                metrics=metrics,
                tags={"shopml.retrain_id": req.id, "shopml.trigger": ",".join(req.reasons)},
                set_alias="challenger",
            )
            _failpoint("registering")
        job.version = int(existing.version)
        job.step = "registered"

    def _champion_version(self) -> int | None:
        try:
            version = self.registry.aliases(self.policy.model).get("champion")
        except NotFoundError:
            return None
        return int(version) if version is not None else None

    def _champion(self) -> ModelBundle | None:
        try:
            return self.registry.load_bundle(self.policy.model, "champion")  # type: ignore[no-any-return]
        except NotFoundError:
            return None

    def _gate(self, job: Job, now: datetime) -> None:
        split = self._split(job)
        y = np.asarray(
            split.holdout.column(self.policy.data.target).to_numpy(zero_copy_only=False), dtype=np.int8
        )
        challenger = ModelBundle.load(str(job.bundle_dir))
        champion = self._champion()
        same = champion is not None and champion.version == job.version
        champ_scores = score_table(champion, split.holdout) if (champion is not None and not same) else None
        chal_scores = score_table(challenger, split.holdout) if split.holdout.num_rows else np.zeros(0)
        decision = decide(y, chal_scores, champ_scores, self.policy.gate)
        decision.model = self.policy.model
        decision.challenger_version = job.version
        decision.champion_version = champion.version if champion is not None and not same else None
        decision.time = job.request.time.isoformat()
        decision.request_id = job.request.id
        decision.holdout = {
            **split.describe(),
            "window": self.policy.window.kind,
            "decided_at": now.isoformat(),
        }
        seen_until = _data_end(champion) if champion is not None and not same else None
        if seen_until is not None:
            decision.holdout["champion_data_end"] = seen_until.isoformat()
            if seen_until > split.holdout_start:
                decision.reasons.append(
                    f"note: the champion's own data reaches {seen_until}, into the holdout: the comparison"
                    " favours the champion (conservative)"
                )
        stem = f"{self.policy.model}-v{job.version}-{job.request.id}"
        _, html_path = write_gate_report(decision, self.gate_dir, stem)
        job.decision = decision.to_dict()
        job.report = str(html_path)
        job.step = "gated"

    def _emit_gate(self, job: Job, now: datetime) -> list[Event]:
        report = Path(str(job.report))
        d = job.decision or {}
        verdict = str(d.get("verdict"))
        ev = self.audit.emit(
            f"{job.request.id}-gate",
            "gate",
            f"gate {verdict}: v{job.version} — " + "; ".join(d.get("reasons", [])),
            ts=now,
            severity="info" if verdict == "promote" else "warning",
            evidence={
                "request_id": job.request.id,
                "version": job.version,
                "verdict": verdict,
                "rule": d.get("rule"),
                "challenger": d.get("challenger_metric"),
                "champion": d.get("champion_metric"),
                "bootstrap": d.get("bootstrap"),
            },
            links=[str(report.with_suffix(".json")), str(report)],
        )
        return [ev] if ev else []

    def _promote(self, job: Job, now: datetime) -> list[Event]:
        name, version = self.policy.model, int(job.version or 0)
        reason = f"gate passed (request {job.request.id}: {job.request.summary})"
        before = self.registry.aliases(name).get("champion")
        if before == version:  # resumed after the alias moved: the previous champion is in the journal
            before = (job.decision or {}).get("champion_version")
        self.registry.promote(name, version, reason=reason)
        _failpoint("alias_moved")
        ev = self.audit.emit(
            f"{job.request.id}-promotion",
            "promotion",
            f"v{version} promoted to champion (was v{before})",
            ts=now,
            evidence={
                "request_id": job.request.id,
                "version": version,
                "previous": before,
                "reasons": job.request.reasons,
            },
            links=[str(job.report)] if job.report else [],
        )
        return [ev] if ev else []


def rollback(loop: Loop, reason: str, now: datetime | None = None) -> Event:
    """Roll the champion back one step in the registry and record a ``rollback`` event."""
    name = loop.policy.model
    before = loop.registry.aliases(name).get("champion")
    info = loop.registry.rollback(name, reason=reason)
    when = now or loop.clock.now()
    event = Event(
        ts=when,
        kind="rollback",
        model=name,
        severity="warning",
        summary=f"rolled back v{before} → v{info.version}: {reason}",
        evidence={"from": before, "to": int(info.version), "reason": reason},
    )
    loop.store.append(event)
    if "rollback" in loop.policy.webhook.on:
        loop.audit.notify(event)
    return event
