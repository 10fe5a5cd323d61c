"""The recommender's drift checks on served traffic from the simulator: the requested items' popularity,
the cold-item share and the top-1 score against the references the training run wrote. A clean day right
after training raises nothing; a day of the new-items surge moves popularity and the cold share."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from shopml.config import Workspace
from shopml.monitor.drift.outputs import OutputCheck
from shopml.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.recs_fixture import LocalServer  # noqa: E402


def _served_checks(bundle: Path, ws: Path, instances: list[dict[str, Any]]) -> dict[str, OutputCheck]:
    from shopml.monitor.job import run_monitor

    reg = Registry(Workspace(ws))
    reg.register(bundle, params={}, metrics={})
    server = LocalServer(ws, reg)
    try:
        for lo in range(0, len(instances), 200):
            r = httpx.post(
                server.url + "/v1/models/recs/predict", json={"instances": instances[lo : lo + 200]}
            )
            assert r.status_code == 200, r.text
    finally:
        server.stop()
    result = run_monitor(ws, "recs", "1d", None, html=False, write=False)
    return {c.column: c for c in result.output_drift}


def test_bundle_records_the_references(surge: tuple[Path, Path]) -> None:
    from shopml.registry.bundle import ModelBundle

    ref = ModelBundle.load(surge[1]).meta.model_dump(by_alias=True)["reference_outputs"]
    assert set(ref) == {"item", "session", "unknown_items", "score"}
    assert "__other__" in ref["session"] and len(ref["session"]) <= 21
    assert ref["unknown_items"]["type"] == ref["score"]["type"] == "numeric"
    cold = np.asarray(ref["unknown_items"]["counts"]).sum()
    assert cold > 500  # one value per request of the test day


def test_clean_day_raises_nothing_and_the_surge_is_detected(
    surge: tuple[Path, Path], day_requests: Any, tmp_path: Path
) -> None:
    world, bundle = surge
    clean = _served_checks(bundle, tmp_path / "clean", day_requests(world, 7))
    assert set(clean) == {"item", "session", "unknown_items", "score"}
    # the requests (popularity, cold share) and the score are quiet; the top-1 item of a one-epoch model
    # that answers nearly always the same few items is not a fair test of a clean day, so it is not asserted
    quiet = {k: c for k, c in clean.items() if k != "item"}
    assert all(c.verdict == "ok" for c in quiet.values()), {k: c.to_dict() for k, c in quiet.items()}
    late = _served_checks(bundle, tmp_path / "late", day_requests(world, 11))
    assert late["unknown_items"].drifted and late["session"].drifted, {
        k: c.to_dict() for k, c in late.items()
    }
    assert late["unknown_items"].statistic is not None and late["unknown_items"].statistic >= 0.05


def test_cold_share_drift_fires_the_retrain_trigger(
    surge: tuple[Path, Path], day_requests: Any, tmp_path: Path
) -> None:
    """The monitor's output-drift event on the cold share is a drift signal the loop's trigger acts on
    (the policy names the output: ``output:unknown_items``); a clean day's events do not fire it."""
    from datetime import UTC, datetime

    from shopml.journal.events import EventStore
    from shopml.loop import LoopPolicy
    from shopml.loop.state import LoopState
    from shopml.loop.triggers import evaluate_triggers
    from shopml.monitor.job import run_monitor

    world, bundle = surge
    policy = LoopPolicy.model_validate(
        {"model": "recs", "task": "recs", "triggers": {"drift": {"features": ["output:unknown_items"]}}}
    )
    fired = {}
    for name, day in (("clean", 7), ("late", 10)):
        ws = tmp_path / name
        _served_checks(bundle, ws, day_requests(world, day))
        now = datetime.now(UTC)
        run_monitor(ws, "recs", "1d", now, html=False)
        events = EventStore(Workspace(ws)).read(model="recs")
        fired[name] = evaluate_triggers(events, LoopState(), policy, now)
    assert fired["clean"] == []
    (firing,) = fired["late"]
    assert firing.trigger == "drift" and firing.evidence["last"]["features"] == ["output:unknown_items"]


def test_realised_recall_from_next_clicks_falls_in_the_surge(
    surge: tuple[Path, Path], day_requests: Any, tmp_path: Path
) -> None:
    """Served answers labelled by their sessions' next clicks (a session's last request: resolved
    without a label once the session has ended): each day's window matures and the monitor measures
    realised Recall@K with an interval over whole sessions; the surge's new items take next clicks the
    model cannot name, and the late day's interval lies below the clean day's. A realised alert needs
    the drop to reach below the bundle's own test interval (minus ``performance.max_drop``): the tiny
    model's test day was weaker than its first clean day, so this drop is not one, and no event fires."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from shopml.cli.main import app
    from shopml.journal.events import EventStore
    from shopml.kinds.ranking_labels import next_item_labels
    from shopml.monitor.job import run_monitor
    from shopml.recs.data import load_events

    world, bundle = surge
    table, _ = load_events(world)
    events = table.select(["session_key", "item_id", "event_time"]).rename_columns(
        ["session_id", "item_id", "event_time"]
    )
    recall = {}
    for name, day in (("clean", 7), ("late", 11)):
        ws = tmp_path / name
        _served_checks(bundle, ws, day_requests(world, day))
        log = pq.read_table(ws / "logs" / "predictions" / "model=recs")
        labels = next_item_labels(log, events)
        ended = pc.sum(pc.is_null(labels["next_item"])).as_py()
        # labelled or resolved: all but requests of sessions that may go on past the world's last event
        assert labels.num_rows >= 0.99 * log.num_rows and 0 < ended < 0.5 * log.num_rows
        pq.write_table(labels, tmp_path / f"{name}.parquet")
        args = ["labels", "ingest", str(tmp_path / f"{name}.parquet"), "--model", "recs", "-w", str(ws)]
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, out.output
        result = run_monitor(ws, "recs", "1d", None, html=False)
        (window,) = [w for w in result.windows if w.realised]
        # a request whose session ended is out of the window's count, so the window matured
        assert window.rows == log.num_rows - ended and window.labelled == labels.num_rows - ended
        recall[name] = iv = window.realised["recall_at_k"]
        assert iv.low < iv.value < iv.high  # sessions resampled: a real interval, not one block
        journal = EventStore(Workspace(ws)).read(model="recs")
        assert not [e for e in journal if e.evidence.get("source") == "realised"]
    assert recall["late"].high < recall["clean"].low, (recall["clean"], recall["late"])
