"""Promote and roll back: champion moves, the previous-champion stack, history, crash leftovers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopml.errors import NotFoundError
from shopml.registry import CHALLENGER, CHAMPION, PREVIOUS_CHAMPION, Registry
from shopml.registry.champion import LOG_TAG, ChampionLog


@pytest.fixture
def three(registry: Registry, make_bundle: Callable[..., Path]) -> Registry:
    for _ in range(3):
        registry.register(make_bundle(), params={}, metrics={})
    return registry


def test_promote_moves_champion_and_clears_challenger(three: Registry) -> None:
    mv = three.promote("fraud", 3, reason="gate passed")
    assert mv.version == 3 and mv.aliases == [CHAMPION]
    assert three.aliases("fraud") == {CHAMPION: 3, PREVIOUS_CHAMPION: 1}
    assert "shopml.promoted_at" in mv.tags
    last = three.history("fraud")[-1]
    assert (last["action"], last["version"], last["previous"]) == ("promote", 3, 1)
    assert last["reason"] == "gate passed"


def test_promote_current_champion_is_a_no_op(three: Registry) -> None:
    before = three.history("fraud")
    assert three.promote("fraud", 1).is_champion
    assert three.history("fraud") == before


def test_rollback_walks_back_then_errors(three: Registry) -> None:
    three.promote("fraud", 2)
    three.promote("fraud", 3)
    assert three.rollback("fraud", reason="alerts").version == 2
    assert three.aliases("fraud")[PREVIOUS_CHAMPION] == 1
    assert three.rollback("fraud").version == 1
    assert PREVIOUS_CHAMPION not in three.aliases("fraud")
    with pytest.raises(
        NotFoundError, match=r"'fraud' has no previous champion to roll back to \(champion: v1\)"
    ):
        three.rollback("fraud")
    actions = [(h["action"], h["version"], h["previous"]) for h in three.history("fraud")]
    assert actions == [
        ("register", 1, None),
        ("promote", 2, 1),
        ("promote", 3, 2),
        ("rollback", 2, 3),
        ("rollback", 1, 2),
    ]
    assert "shopml.rolled_back_at" in three.resolve("fraud", 3).tags


def test_promote_after_rollback_and_challenger(three: Registry) -> None:
    three.promote("fraud", 2)
    three.rollback("fraud")
    assert three.aliases("fraud")[CHALLENGER] == 3
    assert three.promote("fraud", 3).version == 3
    assert CHALLENGER not in three.aliases("fraud")
    assert three.rollback("fraud").version == 1


def test_rollback_skips_a_stack_entry_left_by_a_crash(three: Registry) -> None:
    """A promote that died after writing the log but before moving the alias leaves the current
    champion on top of the stack; rollback skips it."""
    three.promote("fraud", 2)
    log = ChampionLog.from_json(three._model("fraud").tags[LOG_TAG])
    log.push(2)  # what a crashed promote of v3 would have written
    three._write_log("fraud", log)
    assert three.rollback("fraud").version == 1


def test_unknown_targets(three: Registry, registry: Registry) -> None:
    with pytest.raises(NotFoundError, match="model 'ghost' is not registered"):
        three.promote("ghost", 1)
    with pytest.raises(NotFoundError, match="model 'fraud' has no version 7"):
        three.promote("fraud", 7)
    with pytest.raises(NotFoundError, match="model 'ghost' is not registered"):
        three.rollback("ghost")
    with pytest.raises(NotFoundError, match="no previous champion"):
        three.rollback("fraud")


def test_register_as_champion_keeps_history(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    registry.register(make_bundle(), params={}, metrics={})
    mv = registry.register(make_bundle(), params={}, metrics={}, set_alias=CHAMPION)
    assert mv.is_champion
    assert registry.rollback("fraud").version == 1


def test_champion_log_round_trip_and_garbage() -> None:
    log = ChampionLog()
    log.push(1)
    log.push(1)
    log.record("promote", 2, 1, "why")
    again = ChampionLog.from_json(log.to_json())
    assert again.previous == [1] and again.history[0]["reason"] == "why"
    assert ChampionLog.from_json("not json").previous == []
    assert ChampionLog.from_json(None).history == []


@given(st.lists(st.one_of(st.integers(1, 6), st.none()), max_size=40))
def test_champion_log_matches_a_plain_stack(ops: list[int | None]) -> None:
    """Promote v (an int) or roll back (None) through ChampionLog; compare with a plain list model."""
    log, current = ChampionLog(), 1
    stack: list[int] = []
    for op in ops:
        if op is None:
            target = log.pop_previous(current)
            while stack and stack[-1] == current:
                stack.pop()
            expected = stack.pop() if stack else None
            assert target == expected and target != current
            current = target if target is not None else current
        elif op != current:
            log.push(current)
            if not stack or stack[-1] != current:
                stack.append(current)
            current = op
        log = ChampionLog.from_json(log.to_json())
        assert log.previous == stack
