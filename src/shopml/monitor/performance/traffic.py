"""Traffic and latency of one prediction-log window, computed in DuckDB.

The block the monitoring report carries (``report["traffic"]``)::

    {"requests": 3120, "latency_p50_ms": 4.1, "latency_p99_ms": 19.8,
     "by_version": {"3": {"requests": 3000, "latency_p50_ms": 4.0, "latency_p99_ms": 19.1}, ...}}

Latencies are exact quantiles (``quantile_cont``) of the log's ``latency_ms`` column; they are ``None``
when the log has no such column or the window no latency value. Every model version in the window is
counted (champion and shadows alike); ``by_version`` keys are the versions as text (JSON object keys),
``"unknown"`` for rows without one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shopml.logstore import PredictionLog, as_utc

__all__ = ["window_traffic"]


def _ms(value: Any) -> float | None:
    return None if value is None else float(value)


def window_traffic(log: PredictionLog, start: datetime, end: datetime) -> dict[str, Any]:
    """Requests, median and 99th-percentile latency (ms) of ``[start, end)``, overall and by version."""
    cols = log.columns
    lat = "latency_ms" in cols
    version = "CAST(model_version AS VARCHAR)" if "model_version" in cols else "NULL"
    stats = (
        "count(*), quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.99)"
        if lat
        else "count(*), NULL, NULL"
    )
    t = log.time_expr()
    sql = (
        f"SELECT coalesce({version}, 'unknown') AS v, {stats} FROM {log.source()} "
        f"WHERE {t} >= $start AND {t} < $end GROUP BY ALL ORDER BY v"
    )
    params = {"start": as_utc(start), "end": as_utc(end)}
    by_version = {
        str(v): {"requests": int(n), "latency_p50_ms": _ms(p50), "latency_p99_ms": _ms(p99)}
        for v, n, p50, p99 in log.con.execute(sql, params).fetchall()
    }
    total_sql = f"SELECT {stats} FROM {log.source()} WHERE {t} >= $start AND {t} < $end"
    n, p50, p99 = log.con.execute(total_sql, params).fetchall()[0]
    return {
        "requests": int(n),
        "latency_p50_ms": _ms(p50),
        "latency_p99_ms": _ms(p99),
        "by_version": by_version,
    }
