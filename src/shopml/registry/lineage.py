"""Lineage: where a model came from (git commit, library versions), flattened into MLflow tags."""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["LIBRARIES", "collect_lineage", "flatten_tags", "git_commit", "library_versions"]

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
    "mlflow",
)
MAX_TAG_CHARS = 5000


def git_commit(path: str | Path | None = None, *, mark_dirty: bool = False) -> str | None:
    """The HEAD commit of the git work tree holding ``path`` (default: this package), or None.

    With ``mark_dirty``, ``-dirty`` is appended when tracked files have uncommitted changes.
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=False
        )
        commit = out.stdout.strip()
        if out.returncode != 0 or len(commit) != 40:
            return None
        if mark_dirty:
            status = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=where,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            if status.stdout.strip():
                return f"{commit}-dirty"
    except (OSError, subprocess.SubprocessError):
        return None
    return commit


def library_versions(names: tuple[str, ...] = LIBRARIES, *, missing: str | None = None) -> dict[str, str]:
    """Installed versions of the libraries a model depends on; missing ones are left out, or given the
    value ``missing`` when it is set."""
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            if missing is not None:
                found[name] = missing
    return found


def collect_lineage(existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """``existing`` lineage completed with ``git_commit`` and ``library_versions`` when it lacks them."""
    out = dict(existing or {})
    if not out.get("git_commit"):
        out["git_commit"] = git_commit()
    if not out.get("library_versions"):
        out["library_versions"] = library_versions()
    return out


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_TAG_CHARS else text[: MAX_TAG_CHARS - 1] + "…"


def flatten_tags(data: dict[str, Any], prefix: str) -> dict[str, str]:
    """Nested mapping → ``{"prefix.a.b": "value"}`` string tags (long values truncated, None dropped).

    >>> flatten_tags({"git_commit": "abc", "library_versions": {"numpy": "2.0"}, "x": None}, "lineage")
    {'lineage.git_commit': 'abc', 'lineage.library_versions.numpy': '2.0'}
    """
    tags: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            tags.update(flatten_tags(value, full))
        elif value is not None:
            tags[full] = _text(value)
    return tags
