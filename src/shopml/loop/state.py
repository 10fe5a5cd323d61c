"""The loop's on-disk journal: what fired, what is in flight, what was decided.

One JSON file, ``workspace/loop/state.json``, replaced atomically (write temp, ``fsync``, ``rename``) after
every step, so a kill at any moment leaves either the old or the new state, never a torn one. An
in-flight retrain (:class:`Job`) records its step *before* the side effect of the next one; on restart
the loop resumes from the recorded step, and every side effect is idempotent (registered versions are
found again by their ``shopml.retrain_id`` tag, events by their deterministic id).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shopml.errors import DataError
from shopml.loop.triggers import RetrainRequest

__all__ = ["STEPS", "Episode", "Job", "LoopState", "StateStore"]

#: The steps of one retrain, in order; ``Job.step`` is the last one completed.
STEPS = ("requested", "trained", "registered", "gated", "promoted", "done")
Step = Literal["requested", "trained", "registered", "gated", "promoted", "done"]
MAX_HISTORY = 200


class Episode(BaseModel):
    """A trigger episode that fired (so the same episode does not fire again)."""

    key: str
    trigger: str
    fired_at: datetime
    request_id: str
    outcome: str | None = None  # promoted | rejected | failed | no_decision


class Job(BaseModel):
    """One retrain in flight."""

    model_config = ConfigDict(validate_assignment=True)

    request: RetrainRequest
    step: Step = "requested"
    bundle_dir: str | None = None
    version: int | None = None
    train_rows: int | None = None
    decision: dict[str, Any] | None = None
    report: str | None = None
    error: str | None = None


class LoopState(BaseModel):
    """Everything the loop remembers between passes."""

    first_seen: datetime | None = None
    last_retrain_at: datetime | None = None
    schedule_checked_at: datetime | None = None
    episodes: list[Episode] = Field(default_factory=list)
    current: Job | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)

    def episode(self, key: str) -> Episode | None:
        """The fired episode with this key, if any (latest first)."""
        for ep in reversed(self.episodes):
            if ep.key == key:
                return ep
        return None

    def finish(self, outcome: str) -> None:
        """Close the current job: outcome onto its episodes, a summary into history."""
        job = self.current
        if job is None:
            return
        for ep in self.episodes:
            if ep.request_id == job.request.id:
                ep.outcome = outcome
        self.history.append(
            {
                "request_id": job.request.id,
                "time": job.request.time.isoformat(),
                "reasons": job.request.reasons,
                "version": job.version,
                "outcome": outcome,
                "report": job.report,
                "error": job.error,
            }
        )
        self.history = self.history[-MAX_HISTORY:]
        self.episodes = self.episodes[-MAX_HISTORY:]
        self.current = None


class StateStore:
    """Load and atomically save :class:`LoopState`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> LoopState:
        """The saved state, or a fresh one."""
        if not self.path.exists():
            return LoopState()
        try:
            return LoopState.model_validate_json(self.path.read_text(encoding="utf-8"))
        except (ValidationError, ValueError) as exc:
            raise DataError(
                f"{self.path}: loop state is unreadable ({exc}); move it away to start afresh"
            ) from exc

    def save(self, state: LoopState) -> None:
        """Replace the state file atomically and durably."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(state.model_dump_json(indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
