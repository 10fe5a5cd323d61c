"""Typed, MLflow-free views of registered models and their versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["CHALLENGER", "CHAMPION", "PREVIOUS_CHAMPION", "ModelVersionInfo", "RegisteredModelInfo"]

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"


def from_millis(ms: int | None) -> datetime | None:
    """MLflow's epoch milliseconds as an aware UTC datetime."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000.0, tz=UTC)


@dataclass(frozen=True)
class ModelVersionInfo:
    """One immutable model version: where it came from, how good it was, which aliases point at it."""

    name: str
    version: int
    run_id: str
    aliases: list[str]
    created_at: datetime | None
    metrics: dict[str, float]
    tags: dict[str, str]
    source: str

    @property
    def is_champion(self) -> bool:
        """True when the ``champion`` alias points at this version."""
        return CHAMPION in self.aliases

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "aliases": list(self.aliases),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "source": self.source,
        }


@dataclass(frozen=True)
class RegisteredModelInfo:
    """A registered model: its aliases (alias → version) and how many versions it has."""

    name: str
    latest_version: int | None
    n_versions: int
    aliases: dict[str, int]
    created_at: datetime | None
    updated_at: datetime | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def champion(self) -> int | None:
        """The champion's version number, if any."""
        return self.aliases.get(CHAMPION)

    @property
    def challenger(self) -> int | None:
        """The challenger's version number, if any."""
        return self.aliases.get(CHALLENGER)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "latest_version": self.latest_version,
            "n_versions": self.n_versions,
            "aliases": dict(self.aliases),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "tags": dict(self.tags),
        }
