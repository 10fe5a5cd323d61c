"""Triggers: severity and feature filters, debounce into episodes, cooldown, retry, schedule, labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopml.errors import ConfigError
from shopml.journal.events import Event
from shopml.loop.policy import LoopPolicy, load_policy
from shopml.loop.state import Episode, LoopState
from shopml.loop.triggers import Firing, evaluate_triggers, performance_drop

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _drift(day: float, features: list[str], severity: str = "warning", version: int = 1) -> Event:
    return Event(
        ts=T0 + timedelta(days=day),
        kind="drift",
        model="fraud",
        severity=severity,  # type: ignore[arg-type]
        summary=f"drift in {features}",
        evidence={"drifted_features": features, "model_version": version},
    )


def _policy(**triggers: Any) -> LoopPolicy:
    base = {"episode_gap_hours": 48, "cooldown_hours": 72}
    return LoopPolicy.model_validate({"model": "fraud", "triggers": {**base, **triggers}})


def _fire(state: LoopState, firings: list[Firing], now: datetime) -> None:
    req = Firing.merge(firings, now)
    for f in firings:
        state.episodes.append(Episode(key=f.episode_key, trigger=f.trigger, fired_at=now, request_id=req.id))
    state.last_retrain_at = now


def test_one_drift_episode_fires_once() -> None:
    policy, state = _policy(), LoopState()
    events = [_drift(d, ["amount"]) for d in (0, 1, 2, 3, 4, 5, 6)]
    fired_days = []
    for day in range(8):
        now = T0 + timedelta(days=day, hours=1)
        firings = evaluate_triggers(events, state, policy, now)
        if firings:
            fired_days.append(day)
            _fire(state, firings, now)
            state.episodes[-1].outcome = "promoted"
    assert fired_days == [0]


def test_new_episode_after_gap_fires_again_after_cooldown() -> None:
    policy, state = _policy(), LoopState()
    events = [_drift(0, ["amount"]), _drift(1, ["amount"]), _drift(10, ["country"])]
    fired = []
    for day in range(12):
        now = T0 + timedelta(days=day, hours=1)
        if f := evaluate_triggers(events, state, policy, now):
            fired.append(day)
            _fire(state, f, now)
            state.episodes[-1].outcome = "promoted"
    assert fired == [0, 10]


@pytest.mark.parametrize(("backoff", "expected"), [(1.0, [0, 3, 6, 9, 12, 15]), (2.0, [0, 3, 9])])
def test_cooldown_blocks_and_rejected_episode_retries(backoff: float, expected: list[int]) -> None:
    policy, state = _policy(retry_backoff=backoff), LoopState()
    events = [_drift(d, ["amount"]) for d in range(18)]
    fired = []
    for day in range(18):
        now = T0 + timedelta(days=day, hours=1)
        if f := evaluate_triggers(events, state, policy, now):
            fired.append(day)
            _fire(state, f, now)
            state.episodes[-1].outcome = "rejected"
    assert fired == expected  # a rejected episode retries after 72 h, then 144 h, ... with backoff 2


def test_severity_and_feature_filters() -> None:
    policy = _policy(drift={"min_severity": "critical", "features": ["amount"]})
    now = T0 + timedelta(hours=1)
    assert not evaluate_triggers([_drift(0, ["amount"], "warning")], LoopState(), policy, now)
    assert not evaluate_triggers([_drift(0, ["country"], "critical")], LoopState(), policy, now)
    (f,) = evaluate_triggers([_drift(0, ["amount", "country"], "critical")], LoopState(), policy, now)
    assert f.trigger == "drift" and f.evidence["last"]["features"] == ["amount"]


def test_min_events_debounce_and_future_events_ignored() -> None:
    policy = _policy(drift={"min_events": 2})
    events = [_drift(0, ["amount"]), _drift(1, ["amount"])]
    assert not evaluate_triggers(events, LoopState(), policy, T0 + timedelta(hours=1))  # 2nd is in the future
    assert evaluate_triggers(events, LoopState(), policy, T0 + timedelta(days=1, hours=1))


def test_performance_events_about_an_old_champion_are_ignored() -> None:
    old = _perf("realised", 0.3, 0.4)
    events = [old.model_copy(update={"evidence": {**old.evidence, "model_version": 1}})]
    now = T0 + timedelta(hours=1)
    assert not evaluate_triggers(events, LoopState(), _policy(), now, champion_version=2)
    assert evaluate_triggers(events, LoopState(), _policy(), now, champion_version=1)


def test_a_drift_episode_goes_on_across_a_promotion() -> None:
    """Drift on days 0-4; v2 is promoted on day 1 and drift goes on against it: still the same episode,
    which fired once, so nothing fires after the cooldown."""
    events = [_drift(d, ["amount"], version=1 if d < 2 else 2) for d in range(5)]
    state, first = LoopState(), T0 + timedelta(days=1, hours=1)
    (f,) = evaluate_triggers(events[:2], state, _policy(), first, champion_version=1)
    _fire(state, [f], first)
    state.episodes[-1].outcome = "promoted"
    assert not evaluate_triggers(
        events, state, _policy(), T0 + timedelta(days=4, hours=2), champion_version=2
    )


def _perf(source: str, value: float, high: float, reference: float = 0.8) -> Event:
    ev = {"source": source, "metric": "pr_auc", "value": value, "low": value - 0.05, "high": high}
    return Event(
        ts=T0, kind="performance", model="fraud", summary="perf", evidence={**ev, "reference": reference}
    )


def test_performance_min_events_debounce() -> None:
    policy = _policy(performance={"min_events": 2})
    first = _perf("realised", 0.3, 0.4)
    second = first.model_copy(update={"id": "second", "ts": T0 + timedelta(days=1)})
    assert not evaluate_triggers([first], LoopState(), policy, T0 + timedelta(hours=1))
    fired = evaluate_triggers([first, second], LoopState(), policy, T0 + timedelta(days=1, hours=1))
    assert [f.trigger for f in fired] == ["performance"]


def test_performance_drop_needs_the_interval_below_tolerance() -> None:
    policy = _policy(performance={"tolerance": 0.1})  # limit 0.72
    assert performance_drop(_perf("realised", 0.6, 0.7), policy) is not None
    assert performance_drop(_perf("realised", 0.6, 0.75), policy) is None  # CI reaches above the limit
    assert (
        performance_drop(_perf("estimated", 0.6, 0.7), _policy(performance={"use_estimated": False})) is None
    )
    (f,) = evaluate_triggers([_perf("realised", 0.6, 0.7)], LoopState(), policy, T0 + timedelta(hours=1))
    assert f.trigger == "performance" and f.evidence["last"]["limit"] == pytest.approx(0.72)


def test_schedule_fires_when_cron_is_due() -> None:
    policy = _policy(
        schedule={"enabled": True, "cron": "0 3 * * 1"}, drift={"enabled": False}, cooldown_hours=0
    )
    state = LoopState(schedule_checked_at=datetime(2026, 3, 1, tzinfo=UTC))  # a Sunday
    assert not evaluate_triggers([], state, policy, datetime(2026, 3, 2, 2, tzinfo=UTC))
    (f,) = evaluate_triggers([], state, policy, datetime(2026, 3, 2, 4, tzinfo=UTC))
    assert f.trigger == "schedule" and f.evidence["due"].startswith("2026-03-02T03:00")


def test_new_labels_trigger_counts_since_last_retrain() -> None:
    policy = _policy(new_labels={"enabled": True, "min_rows": 100}, drift={"enabled": False})
    state = LoopState(last_retrain_at=T0 - timedelta(days=10))
    calls: list[tuple[datetime | None, datetime]] = []

    def count(since: datetime | None, until: datetime) -> int:
        calls.append((since, until))
        return 150

    (f,) = evaluate_triggers([], state, policy, T0, count)
    assert f.evidence["new_rows"] == 150 and calls == [(state.last_retrain_at, T0)]


def test_merge_keeps_every_reason() -> None:
    req = Firing.merge([Firing("drift", "k1", "a"), Firing("schedule", "k2", "b")], T0)
    assert req.reasons == ["drift", "schedule"] and req.summary == "a; b"


def test_policy_errors_name_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "loop.yaml"
    bad.write_text("triggers:\n  schedule:\n    cron: 'every monday'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"triggers.schedule.cron.*not a valid cron"):
        load_policy(bad)
    bad.write_text("gate:\n  confidnce: 0.9\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"gate\.confidnce"):
        load_policy(bad)
    bad.write_text("triggers:\n  drift:\n    min_severity: loud\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown severity 'loud'"):
        load_policy(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")
    bad.unlink()
    assert load_policy(None, tmp_path).gate.mode == "non_inferior"


def test_a_recommender_s_recall_drop_qualifies() -> None:
    """The ranking kind's realised ``recall_at_k`` event (the monitor's evidence) qualifies like any
    higher-is-better metric: relative to the reference, with the interval's upper bound."""
    policy = _policy(performance={"metric": "recall_at_k", "tolerance": 0.1})
    event = _perf("realised", 0.09, 0.1, reference=0.15)
    event.evidence["metric"] = "recall_at_k"
    drop = performance_drop(event, policy)
    assert drop is not None and drop["limit"] == pytest.approx(0.135)
    assert (
        performance_drop(_perf("realised", 0.09, 0.1, reference=0.15), policy) is None
    )  # pr_auc: not acted on
    event.evidence["high"] = 0.14
    assert performance_drop(event, policy) is None
