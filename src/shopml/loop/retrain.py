"""One retrain as journalled, idempotent steps: train → register → gate → promote.

Each step is saved in the journal *before* the next side effect: ``requested`` (request saved, trigger
event) → ``trained`` (bundle on disk) → ``registered`` (registry version tagged ``shopml.retrain_id``) →
``gated`` (decision and report saved) → ``promoted`` (alias moved) → done. Killed anywhere, the next pass
resumes at the recorded step; a registered version is found again by its tag and every event has a
deterministic id, so nothing is registered or recorded twice.

The trainer decides where the challenger's data comes from: a plain :class:`Trainer` gets the policy's
point-in-time labelled table and the gate scores its holdout rows; a :class:`BundleSteps` (a model that
learns from other tables, e.g. the recommender from the sessions) trains and gates on its own data
through the same journalled steps, registry and events.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from shopml.errors import NotFoundError, NotReadyError, ShopmlError
from shopml.journal import promote as promote_champion
from shopml.journal.events import Event, Severity
from shopml.kinds import ModelKind, get_kind
from shopml.loop.audit import Audit
from shopml.loop.challenger import Trainer, input_task, policy_kind
from shopml.loop.gate import GateDecision, decide, metric_label, write_gate_report
from shopml.loop.policy import LoopPolicy
from shopml.loop.scoring import score_table
from shopml.loop.state import Job, LoopState, StateStore
from shopml.loop.window import Split, load_known, split_at
from shopml.registry import ModelBundle

__all__ = ["FAILPOINT_ENV", "BundleSteps", "Retrainer", "failpoint"]

#: Test hook: ``_SHOPML_LOOP_FAILPOINT=<name>`` SIGKILLs the process at that point (crash-safety tests).
FAILPOINT_ENV = "_SHOPML_LOOP_FAILPOINT"  # not SHOPML_*: settings reads those


def failpoint(name: str) -> None:
    """SIGKILL this process if ``$_SHOPML_LOOP_FAILPOINT`` names this point (a test hook; no-op otherwise)."""
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@runtime_checkable
class BundleSteps(Protocol):
    """A trainer that reads its own data: trains a challenger bundle and gates it against the champion."""

    def train(self, policy: LoopPolicy, out_dir: Path, now: datetime) -> tuple[Path, int]:
        """Write the challenger's bundle to ``out_dir`` from data known at ``now``; (bundle, rows used)."""
        ...

    def gate(
        self, policy: LoopPolicy, challenger: ModelBundle, champion: ModelBundle | None, now: datetime
    ) -> GateDecision:
        """The gate's decision (:func:`shopml.loop.gate.decide`) on fresh data both models score."""
        ...


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


def _scorer(bundle: ModelBundle) -> Callable[[ModelBundle, Any], np.ndarray]:
    """How the gate scores the holdout: an input task's model (photos, texts) from its own inputs
    (:data:`shopml.loop.challenger.INPUT_TASKS`), the others from a feature table."""
    task = input_task(bundle.meta.input_type)
    return task.function("score") if task is not None else score_table


class Retrainer:
    """Runs the journalled steps of the retrain in ``state.current``."""

    def __init__(
        self,
        policy: LoopPolicy,
        state_store: StateStore,
        audit: Audit,
        registry: Callable[[], Any],
        trainer: Trainer | BundleSteps,
        runs_dir: Path,
        gate_dir: Path,
    ) -> None:
        self.policy = policy
        self.state_store = state_store
        self.audit = audit
        self.registry = registry
        self.trainer = trainer
        self.runs_dir = runs_dir
        self.gate_dir = gate_dir
        self._kind: ModelKind | None = None

    @property
    def kind(self) -> ModelKind:
        """The kind of model the loop trains (from its training config, resolved once)."""
        if self._kind is None:
            self._kind = policy_kind(self.policy)
        return self._kind

    def _split(self, job: Job) -> Split:
        p = self.policy
        table = load_known(p.data, job.request.time)
        return split_at(table, p.data, p.window, p.gate, job.request.time, p.label_delay, self.kind)

    def run(self, state: LoopState, now: datetime) -> list[Event]:
        """Run (or resume) ``state.current`` to its end; returns the events appended."""
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
                failpoint("trained")
            if job.step == "trained":
                out += self._emit_retrain(job, now)
                self._register(job)
                self.state_store.save(state)
                failpoint("registered")
            if job.step == "registered":
                self._gate(job, now)
                self.state_store.save(state)
                failpoint("gated")
            if job.step == "gated":
                out += self._emit_gate(job, now)  # written once, also when resumed after the decision
                verdict = str((job.decision or {}).get("verdict", "failed"))
                if verdict == "promote":
                    out += self._promote(job, now)
                    job.step = "promoted"
                    self.state_store.save(state)
                    failpoint("promoted")
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
        trainer = self.trainer
        split = None if isinstance(trainer, BundleSteps) else self._split(job)
        run_dir = self.runs_dir / job.request.id
        if run_dir.exists():
            shutil.rmtree(run_dir)  # a half-written bundle from a killed pass
        run_dir.mkdir(parents=True)
        if isinstance(trainer, BundleSteps) or split is None:
            bundle_dir, job.train_rows = trainer.train(self.policy, run_dir / "bundle", job.request.time)  # type: ignore[union-attr]
            job.bundle_dir, job.step = str(bundle_dir), "trained"
            return
        bundle_dir = trainer(split.train, split.weights, self.policy, run_dir / "bundle", job.request.time)
        job.bundle_dir = str(bundle_dir)
        job.train_rows = split.train.num_rows
        job.step = "trained"

    def _emit_retrain(self, job: Job, now: datetime) -> list[Event]:
        bundle = ModelBundle.load(str(job.bundle_dir))
        metric = get_kind(bundle.meta.kind).primary_metric
        value = bundle.meta.metrics.get(metric)
        w = self.policy.window
        ev = self.audit.emit(
            f"{job.request.id}-retrain",
            "retrain",
            f"challenger trained on {job.train_rows} rows ({w.kind} window"
            + (f", {w.days:g} days" if w.kind == "sliding" else "")
            + (f", test {metric_label(metric)} {value:.3f})" if isinstance(value, float) else ")"),
            ts=now,
            evidence={
                "request_id": job.request.id,
                "train_rows": job.train_rows,
                "window": w.model_dump(),
                "bundle": job.bundle_dir,
                f"test_{metric}": value,
            },
            links=[str(Path(str(job.bundle_dir)) / "report.html")],
        )
        return [ev] if ev else []

    def _register(self, job: Job) -> None:
        name, req = self.policy.model, job.request
        existing = None
        try:
            existing = next(
                (v for v in self.registry().versions(name) if v.tags.get("shopml.retrain_id") == req.id), None
            )
        except NotFoundError:
            existing = None
        if existing is None:
            bundle = ModelBundle.load(str(job.bundle_dir))
            metrics = {k: float(v) for k, v in bundle.meta.metrics.items() if isinstance(v, int | float)}
            existing = self.registry().register(
                job.bundle_dir,
                params={"window": self.policy.window.kind, "window_days": self.policy.window.days},
                metrics=metrics,
                tags={"shopml.retrain_id": req.id, "shopml.trigger": ",".join(req.reasons)},
                set_alias="challenger",
            )
            failpoint("registering")
        job.version = int(existing.version)
        job.step = "registered"

    def _champion(self) -> ModelBundle | None:
        try:
            return self.registry().load_bundle(self.policy.model, "champion")  # type: ignore[no-any-return]
        except NotFoundError:
            return None

    def _gate(self, job: Job, now: datetime) -> None:
        if isinstance(self.trainer, BundleSteps):
            challenger = ModelBundle.load(str(job.bundle_dir))
            champion = self._champion()
            same = champion is not None and champion.version == job.version
            decision = self.trainer.gate(
                self.policy, challenger, None if same else champion, job.request.time
            )
            decision.holdout["decided_at"] = now.isoformat()
            self._record(job, decision, champion if champion is not None and not same else None)
            return
        split = self._split(job)
        challenger = ModelBundle.load(str(job.bundle_dir))
        kind = get_kind(challenger.meta.kind)
        target = self.policy.data.target
        # labels as the kind's metrics take them (a multiclass model's class names → its class indices)
        y = kind.check_labels(
            split.holdout.column(target).to_numpy(zero_copy_only=False),
            challenger.meta.model_dump(by_alias=True),
            field=f"holdout column '{target}'",
        )
        champion = self._champion()
        same = champion is not None and champion.version == job.version
        score = _scorer(challenger)
        champ_scores = score(champion, split.holdout) if (champion is not None and not same) else None
        chal_scores = score(challenger, split.holdout) if split.holdout.num_rows else np.zeros(0)
        hours = (  # hour blocks: frauds come in bursts that a model catches or misses together
            split.holdout.column(self.policy.data.time_column).to_numpy().astype("datetime64[h]")
        )
        decision = decide(
            y,
            chal_scores,
            champ_scores,
            self.policy.gate,
            groups=hours,
            weights=split.holdout_weights,
            kind=kind,
        )
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
        self._record(job, decision, None)

    def _record(self, job: Job, decision: GateDecision, champion: ModelBundle | None) -> None:
        """Fill in the decision's identity (``champion``: when the steps did not) and write its report."""
        if champion is not None:
            decision.champion_version = champion.version
        decision.model = self.policy.model
        decision.challenger_version = job.version
        decision.time = job.request.time.isoformat()
        decision.request_id = job.request.id
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
        """The shared champion move (:func:`shopml.journal.promote`), idempotent under the request id."""
        move = promote_champion(
            self.registry(),
            self.audit.store,
            self.policy.model,
            int(job.version or 0),
            reason=f"gate passed (request {job.request.id}: {job.request.summary})",
            actor="loop",
            ts=now,
            event_id=f"{job.request.id}-promotion",
            previous=(job.decision or {}).get("champion_version"),  # resumed after the alias moved
            request_id=job.request.id,
            reasons=job.request.reasons,
            links=[str(job.report)] if job.report else [],
            after_move=lambda: failpoint("alias_moved"),
        )
        if move.event is None:
            return []
        self.audit.publish(move.event)
        return [move.event]
