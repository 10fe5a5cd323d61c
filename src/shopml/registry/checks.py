"""Checks on what a caller hands the registry, done before any write so nothing is half-registered."""

from __future__ import annotations

import json
import math
import posixpath
import re
from pathlib import Path
from typing import Any

from shopml.errors import ConfigError, DataError, NotFoundError
from shopml.registry.bundle import ONNX_FILE, ModelBundle

__all__ = ["check_alias", "check_bundle", "check_metrics", "check_params", "check_tags"]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
KEY_RE = re.compile(r"^[\w.\- /:]{1,250}$")
ALIAS_RE = re.compile(r"^[A-Za-z_][\w\-]{0,254}$")
MAX_PARAM_CHARS = 6000


def check_bundle(bundle_dir: str | Path) -> ModelBundle:
    """Load a bundle folder; its ``bundle.json`` and ``model.onnx`` must exist and the name be usable."""
    path = Path(bundle_dir)
    if not path.is_dir():
        raise NotFoundError(f"bundle folder {path} does not exist")
    bundle = ModelBundle.load(path)
    if not (path / ONNX_FILE).is_file():
        raise NotFoundError(f"{path / ONNX_FILE} does not exist: a bundle must hold the ONNX serving graph")
    if not NAME_RE.match(bundle.name):
        raise DataError(
            f"{path / 'bundle.json'}: model name {bundle.name!r} is not usable; expected letters, digits, "
            "'_', '.', '-' (starting with a letter or digit, at most 128 characters)"
        )
    return bundle


def _check_key(kind: str, key: Any) -> str:
    norm = posixpath.normpath(key) if isinstance(key, str) else ""
    if not isinstance(key, str) or not KEY_RE.match(key) or norm != key or norm.startswith((".", "/")):
        raise DataError(
            f"{kind} name {key!r} is not valid: expected letters, digits and '_', '-', '.', ' ', '/', ':' "
            "(at most 250 characters, not a path like '../x')"
        )
    return key


def check_params(params: dict[str, Any] | None) -> dict[str, str]:
    """Param name → string value (non-strings as JSON; long values truncated)."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        if len(text) > MAX_PARAM_CHARS:
            text = text[: MAX_PARAM_CHARS - 1] + "…"
        out[_check_key("param", key)] = text
    return out


def check_metrics(metrics: dict[str, Any] | None) -> dict[str, float]:
    """Metric name → float; a non-numeric value is an error naming the metric."""
    out: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise DataError(f"metric {key!r} must be a number, got {value!r}") from None
        else:
            number = float(value)
        out[_check_key("metric", key)] = number
    return out


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def numeric_leaves(data: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Finite numbers in a nested mapping, keys joined with '.' (e.g. bundle.json ``metrics``).

    >>> numeric_leaves({"pr_auc": 0.8, "ci": {"low": 0.7}, "name": "x", "n": True})
    {'pr_auc': 0.8, 'ci.low': 0.7}
    """
    out: dict[str, float] = {}
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(numeric_leaves(value, full))
        elif _finite(value) and KEY_RE.match(full):
            out[full] = float(value)
    return out


def check_tags(tags: dict[str, Any] | None) -> dict[str, str]:
    """Tag name → string value."""
    return {_check_key("tag", k): str(v) for k, v in (tags or {}).items()}


def check_alias(alias: str) -> str:
    """An alias MLflow accepts: letters, digits, '_' and '-', not ``latest`` nor ``v<digits>``."""
    if not ALIAS_RE.match(alias) or alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise ConfigError(
            f"alias {alias!r} is not valid: expected letters, digits, '_' or '-' starting with a letter, "
            "and not 'latest' or 'v<number>'"
        )
    return alias
