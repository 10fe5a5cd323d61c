"""Lineage of a training run: data fingerprint, config, seed, git commit and library versions."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["LIBRARIES", "build_lineage", "git_commit", "library_versions"]

LIBRARIES = (
    "shopml",
    "numpy",
    "pyarrow",
    "scikit-learn",
    "xgboost",
    "imbalanced-learn",
    "onnx",
    "onnxruntime",
    "skl2onnx",
    "onnxmltools",
)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the model (``python`` included)."""
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "not installed"
    return out


def git_commit(path: Path | None = None) -> str | None:
    """The current commit of the repository holding ``path`` (default: this source file), with
    ``-dirty`` when there are uncommitted changes; None outside a git work tree."""
    where = str(path or Path(__file__).resolve().parent)
    try:
        sha = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def build_lineage(
    *, data_fingerprint: str, data_source: str, config: dict[str, Any], seed: int
) -> dict[str, Any]:
    """Everything needed to say where a model came from."""
    return {
        "data_fingerprint": data_fingerprint,
        "data_source": data_source,
        "config": config,
        "seed": seed,
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
