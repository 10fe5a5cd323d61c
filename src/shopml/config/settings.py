"""Settings: an optional YAML file overlaid by ``SHOPML_*`` environment variables, validated by pydantic.

Nested keys use a double underscore in the environment: ``SHOPML_SERVE__PORT=9000`` sets
``serve.port``. An invalid value fails with the key, the value and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shopml.config.loader import read_yaml, validate_model
from shopml.errors import ConfigError

__all__ = ["PerformanceSettings", "ServeSettings", "Settings", "load_settings"]

ENV_PREFIX = "SHOPML_"
DEFAULT_FILE = "shopml.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServeSettings(_Section):
    """Inference server settings."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_batch_size: int = Field(64, ge=1, le=4096)
    max_batch_delay_ms: float = Field(2.0, ge=0.0, le=1000.0)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    cache_size: int = Field(0, ge=0)
    cache_ttl_s: float = Field(60.0, gt=0)
    admin_token: str | None = None
    poll_interval_s: float = Field(2.0, gt=0)
    log_flush_interval_s: float = Field(1.0, gt=0, le=60)
    cache_models: list[str] = Field(default_factory=list)  # models whose answers may be cached ("*": all)
    log_predictions: bool = True
    log_max_backlog_rows: int = Field(1_000_000, ge=1)
    coalesce_writes: bool = True  # response head + body in one socket write (shopml.serve.http)
    grpc_port: int | None = Field(None, ge=0, le=65535, description="OIP v2 gRPC port (off when unset)")
    max_rows_per_request: int = Field(10_000, ge=1, description="rows (instances) per request; more: 413")
    max_k: int = Field(100, ge=1, description="the most items a ranking request may ask for (parameters.k)")
    max_connections: int = Field(1000, ge=1, description="open connections per worker; more: 503")
    header_timeout_s: float = Field(10.0, gt=0, description="a request's headers must arrive within this")
    body_timeout_s: float = Field(30.0, gt=0, description="a request's body must arrive within this (408)")
    keep_alive_s: float = Field(5.0, gt=0, description="idle keep-alive connections close after this")
    event_time_window_s: float = Field(
        3600.0, ge=0, description="client event times this far from the server clock are refused; 0: trust"
    )
    ready_requires_log: bool = Field(True, description="a failing prediction log makes the server unready")


class PerformanceSettings(_Section):
    """Performance monitoring with delayed labels (``shopml monitor``)."""

    window: str = Field("1d", pattern=r"^\d+[hdw]$")
    history: int = Field(30, ge=1, le=1000, description="windows back from now to evaluate")
    min_maturity: float = Field(0.95, gt=0.0, le=1.0, description="label share for a window to count")
    min_labelled: int = Field(200, ge=10, description="labelled rows needed for realised metrics")
    min_rows: int = Field(100, ge=10, description="predictions needed for estimated metrics")
    min_positives: int = Field(30, ge=1, description="positives (labelled or expected) a metric needs")
    max_pool: int = Field(7, ge=1, le=100, description="windows pooled at most to reach min_positives")
    level: float = Field(0.9, gt=0.5, lt=1.0, validation_alias=AliasChoices("level", "confidence"))
    n_resamples: int = Field(
        200, ge=20, le=10_000, validation_alias=AliasChoices("n_resamples", "n_bootstrap")
    )
    max_rows: int = Field(20_000, ge=1000, description="rows per window used for intervals (subsample)")
    block: str = Field(
        "1h", pattern=r"^\d+[hdw]$", description="bootstrap block: rows in one block are resampled together"
    )
    stream_rows: int = Field(5_000, ge=100, description="labelled rows per window fed to stream detectors")
    cost_false_positive: float | None = Field(
        None, ge=0.0, description="override the bundle's false-alarm cost (default: the one it was tuned on)"
    )
    cost_false_negative: float | None = Field(
        None, ge=0.0, description="override the bundle's miss cost with a fixed one (default: as tuned)"
    )
    alert_metric: Literal["pr_auc", "precision", "recall", "f1"] = "pr_auc"
    max_drop: float = Field(0.05, ge=0.0, le=1.0, description="alert: high < reference - drop")


class Settings(_Section):
    """All of shopml's settings. Unknown keys are errors (a typo must not be ignored silently)."""

    workspace: Path = Path("workspace")
    seed: int = 42
    mlflow_uri: str | None = None
    serve: ServeSettings = Field(default_factory=lambda: ServeSettings())
    performance: PerformanceSettings = Field(default_factory=lambda: PerformanceSettings())


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == "SHOPML_CONFIG":
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment variable {key}: '{part}' is not a section")
        node[path[-1]] = value
    return tree


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    path: str | Path | None = None,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read settings from ``path`` (default ``$SHOPML_CONFIG`` or ``./shopml.yaml`` if present),
    then ``SHOPML_*`` variables, then explicit ``overrides`` (e.g. from CLI flags).

    >>> load_settings(path=None, environ={"SHOPML_SERVE__PORT": "9001"}).serve.port
    9001
    """
    env = dict(os.environ) if environ is None else environ
    data: dict[str, Any] = {}
    source = "settings"
    file = Path(path) if path else Path(env.get("SHOPML_CONFIG", DEFAULT_FILE))
    if path is not None or "SHOPML_CONFIG" in env or file.exists():
        source = str(file)
        data = read_yaml(file, what="settings")
    data = _merge(data, _env_overrides(env))
    data = _merge(data, {k: v for k, v in overrides.items() if v is not None})
    return validate_model(Settings, data, source)
