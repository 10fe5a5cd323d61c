"""Lineage of a training run: data fingerprint, config, seed, git commit and library versions."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from typing import Any

from shopml.registry.lineage import LIBRARIES, git_commit
from shopml.registry.lineage import library_versions as _installed_versions

__all__ = ["LIBRARIES", "build_lineage", "git_commit", "library_versions"]


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the model (``python`` included, missing ones
    marked ``not installed``)."""
    return {"python": platform.python_version(), **_installed_versions(missing="not installed")}


def build_lineage(
    *, data_fingerprint: str, data_source: str, config: dict[str, Any], seed: int
) -> dict[str, Any]:
    """Everything needed to say where a model came from."""
    return {
        "data_fingerprint": data_fingerprint,
        "data_source": data_source,
        "config": config,
        "seed": seed,
        "git_commit": git_commit(mark_dirty=True),
        "libraries": library_versions(),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
