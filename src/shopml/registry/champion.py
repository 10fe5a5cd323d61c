"""The champion log: which versions were champion before (for rollback) and every alias move (audit).

Stored as one JSON registered-model tag so each update is a single write. The stack of previous
champions is the source of truth for rollback; an entry equal to the current champion is skipped, which
keeps rollback right even if a process died between writing the log and moving the alias.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["LOG_TAG", "ChampionLog"]

LOG_TAG = "shopml.champion_log"
MAX_HISTORY = 200
MAX_STACK = 100


@dataclass
class ChampionLog:
    """Previous champions (oldest first) and the history of champion moves (oldest first).

    >>> log = ChampionLog()
    >>> log.push(1); log.push(2)
    >>> log.pop_previous(current=3), log.pop_previous(current=2), log.pop_previous(current=1)
    (2, 1, None)
    """

    previous: list[int] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, text: str | None) -> ChampionLog:
        """Parse the tag value (missing or unreadable → empty log)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls([int(v) for v in data.get("previous", [])], list(data.get("history", [])))
        except (ValueError, TypeError, AttributeError):
            return cls()

    def to_json(self) -> str:
        """Compact JSON for the tag."""
        data = {"previous": self.previous[-MAX_STACK:], "history": self.history[-MAX_HISTORY:]}
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    def push(self, version: int) -> None:
        """Remember ``version`` as a champion a rollback may return to."""
        if not self.previous or self.previous[-1] != version:
            self.previous.append(version)

    def pop_previous(self, current: int | None) -> int | None:
        """Remove and return the latest previous champion that is not ``current``; None if none left."""
        while self.previous:
            version = self.previous.pop()
            if version != current:
                return version
        return None

    @property
    def top(self) -> int | None:
        """The champion a rollback would restore now (ignoring one equal to the current champion)."""
        return self.previous[-1] if self.previous else None

    def record(
        self, action: str, version: int, previous: int | None, reason: str = "", actor: str = ""
    ) -> dict[str, Any]:
        """Append one history entry and return it."""
        entry: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "action": action,
            "version": version,
            "previous": previous,
            "reason": reason,
        }
        if actor:
            entry["actor"] = actor
        self.history.append(entry)
        return entry
