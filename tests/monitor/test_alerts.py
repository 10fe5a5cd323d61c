"""Alert rules on a hand-built monitoring result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopml.config.settings import PerformanceSettings
from shopml.monitor.alerts import raise_alerts
from shopml.monitor.job import MonitorResult
from shopml.monitor.performance.streaming import StreamAlarm, StreamResult
from shopml.monitor.performance.windows import WindowPerformance
from shopml.stats import Interval

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _result(stream: list[StreamResult], realised: float | None = None) -> MonitorResult:
    day = timedelta(days=1)
    real = None if realised is None else {"pr_auc": Interval(realised, realised - 0.05, realised + 0.05, 0.9)}
    window = WindowPerformance(T0, T0 + day, 1000, 1000, 40, 1.0, True, real, None)
    reference = {"metric": "pr_auc", "value": 0.8, "source": "test", "estimated_baseline": None}
    return MonitorResult("fraud", 3, T0 + day, day, reference, [window], None, None, stream)


def _alarm(hours: int) -> StreamAlarm:
    return StreamAlarm("drift", hours, T0 + timedelta(hours=hours), 0.05, 0.2)


def test_stream_event_needs_two_detectors() -> None:
    cfg = PerformanceSettings()
    one = [StreamResult("ddm", 100, 0.1, [_alarm(3)]), StreamResult("adwin", 100, 0.1)]
    assert raise_alerts(_result(one), cfg, set(), "") == []
    two = [StreamResult("ddm", 100, 0.1, [_alarm(3)]), StreamResult("adwin", 100, 0.1, [_alarm(5)])]
    events = raise_alerts(_result(two), cfg, set(), "")
    assert len(events) == 1 and events[0].evidence["source"] == "stream"
    assert events[0].evidence["detected_at"] == (T0 + timedelta(hours=5)).isoformat()
    assert raise_alerts(_result(two), cfg, set(), events[0].evidence["detected_at"]) == []  # reported


def test_realised_drop_is_critical_once_per_version() -> None:
    cfg = PerformanceSettings(max_drop=0.05)
    assert raise_alerts(_result([], realised=0.72), cfg, set(), "") == []  # high 0.77 >= 0.75
    events = raise_alerts(_result([], realised=0.6), cfg, set(), "")
    assert [(e.kind, e.severity) for e in events] == [("performance", "critical")]
    key = events[0].evidence["key"]
    assert key.endswith(":v3") and raise_alerts(_result([], realised=0.6), cfg, {key}, "") == []
