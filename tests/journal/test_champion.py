"""One promote and one rollback for the CLI and the loop: a real MLflow registry in a tmp workspace."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.dashboard.collect import collect_dashboard
from shopml.journal import ChampionMove, EventStore, promote, rollback
from shopml.registry import Registry


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, ["models", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_rollback_shows_on_the_dashboard_champion_timeline(registered: Registry) -> None:
    _cli("promote", "fraud", "3", "--reason", "better in June")
    assert "v3 → v1" in _cli("rollback", "fraud", "--reason", "alerts")
    assert registered.aliases("fraud")["champion"] == 1
    data = collect_dashboard(registered.workspace, "fraud", initial_champion=(1, "2026-01-01T00:00:00+00:00"))
    assert [span.version for span in data.versions] == [1, 3, 1]
    assert data.versions[0].end == data.versions[1].start and data.versions[-1].end is None
    rolled = [item for item in data.timeline if item.kind == "rollback"]
    assert len(rolled) == 1 and "v3 → v1" in rolled[0].summary and rolled[0].severity == "warning"


def test_cli_and_loop_write_one_shape(registered: Registry) -> None:
    store = EventStore(registered.workspace)
    _cli("promote", "fraud", "2")
    by_loop = rollback(registered, store, "fraud", reason="gate regret", actor="loop")
    _cli("promote", "fraud", "3")
    _cli("rollback", "fraud")
    events = store.read(model="fraud")
    assert [(e.kind, e.evidence["version"], e.evidence["previous"]) for e in events] == [
        ("promotion", 2, 1),
        ("rollback", 1, 2),
        ("promotion", 3, 1),
        ("rollback", 1, 3),
    ]
    assert by_loop.event == events[1] and by_loop.event.evidence["actor"] == "loop"
    assert {e.evidence["actor"] for e in events} == {"cli", "loop"}
    assert {frozenset(e.evidence) - {"reason", "actor"} for e in events} == {
        frozenset({"version", "previous"})
    }


def test_promote_with_an_event_id_is_idempotent_when_resumed(registered: Registry) -> None:
    store = EventStore(registered.workspace)
    moved: list[int] = []

    def resume(after_move: Callable[[], None] | None = None) -> ChampionMove:
        return promote(
            registered,
            store,
            "fraud",
            3,
            actor="loop",
            event_id="r7-promotion",
            previous=1,
            request_id="r7",
            after_move=after_move,
        )

    first = resume(lambda: moved.append(1))
    again = resume()  # a pass killed after the event was written runs the step again
    assert first.event is not None and first.event.id == "r7-promotion" and again.event is None
    assert (first.previous, again.previous) == (1, 1) and moved == [1]
    assert [e.id for e in store.read(kind="promotion")] == ["r7-promotion"]
    assert first.event.evidence["request_id"] == "r7"
    # without an id, promoting the champion again changes nothing and writes nothing
    same = promote(registered, store, "fraud", 3)
    assert not same.changed and same.event is None and len(store.read()) == 1
