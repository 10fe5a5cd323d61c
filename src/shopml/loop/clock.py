"""Clocks: the loop never calls ``datetime.now`` itself, so the demo can run it on simulated time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from shopml.errors import ConfigError
from shopml.times import as_utc as _as_utc

__all__ = ["Clock", "SimulatedClock", "SystemClock", "as_utc"]


def as_utc(value: datetime | str, name: str = "time") -> datetime:
    """A timezone-aware UTC datetime from a datetime or ISO string (naive input is an error)."""
    return _as_utc(value, name, error=ConfigError)


class Clock(Protocol):
    """Anything with ``now() -> aware datetime``."""

    def now(self) -> datetime:
        """The current time (UTC)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to.

    >>> c = SimulatedClock("2026-01-01T00:00:00+00:00"); c.advance(timedelta(days=1)); c.now().day
    2
    """

    def __init__(self, start: datetime | str) -> None:
        self._now = as_utc(start, "start")

    def now(self) -> datetime:
        """The simulated time."""
        return self._now

    def set(self, when: datetime | str) -> None:
        """Jump to ``when``."""
        self._now = as_utc(when, "when")

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self._now = self._now + delta
