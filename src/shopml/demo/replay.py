"""Replay a day of simulated traffic through the real server over HTTP (``/v1/.../predict``)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson
import pyarrow as pa

__all__ = ["ReplayStats", "replay_table", "to_instances"]


@dataclass
class ReplayStats:
    """What a replay sent and got back."""

    requests: int = 0
    instances: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_instances(table: pa.Table, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts of ``columns`` (timestamps as ISO text, NaN as null)."""
    cols = {c: table.column(c).to_pylist() for c in columns if c in table.column_names}
    return [{c: _clean(v[i]) for c, v in cols.items()} for i in range(table.num_rows)]


def replay_table(
    client: httpx.Client,
    url: str,
    model: str,
    instances: list[dict[str, Any]],
    *,
    batch_size: int = 64,
    concurrency: int = 8,
) -> ReplayStats:
    """POST ``instances`` in batches from ``concurrency`` threads; count failures (never raise on them)."""
    stats = ReplayStats()
    endpoint = f"{url}/v1/models/{model}/predict"
    batches = [instances[i : i + batch_size] for i in range(0, len(instances), batch_size)]

    def send(batch: list[dict[str, Any]]) -> tuple[int, str | None]:
        try:
            r = client.post(
                endpoint,
                content=orjson.dumps({"instances": batch}),
                headers={"content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            return len(batch), f"{type(exc).__name__}: {exc}"
        return (0, None) if r.status_code == 200 else (len(batch), f"{r.status_code}: {r.text[:200]}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for failed, err in pool.map(send, batches):
            stats.requests += 1
            stats.failed += failed
            if err and len(stats.errors) < 5:
                stats.errors.append(err)
    stats.instances = len(instances)
    return stats
