"""The loop end to end in-process: drift event → trigger → challenger → gate → promotion → rollback."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pyarrow.dataset as ds
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.config import Workspace
from shopml.journal.events import Event, EventStore
from shopml.loop import Loop, SimulatedClock, rollback
from shopml.loop.policy import LoopPolicy
from shopml.loop.scoring import score_table
from shopml.registry import Registry
from shopml.train.data import to_frame

from .conftest import day


def test_drift_retrains_gates_promotes_once_and_rolls_back(
    champion_ws: Workspace, loop_policy: LoopPolicy
) -> None:
    store = EventStore(champion_ws)
    store.append(
        Event(
            ts=day(37),
            kind="drift",
            model="fraud",
            severity="warning",
            summary="amount shifted",
            evidence={"drifted_features": ["amount"], "model_version": 1},
        )
    )
    clock = SimulatedClock(day(38))
    loop = Loop(champion_ws, loop_policy, clock)
    events = loop.step()
    kinds = [e.kind for e in events]
    assert kinds == ["trigger", "retrain", "gate", "promotion"], [e.summary for e in events]
    trigger, retrain, gate, _ = events
    assert trigger.ts == day(38) and trigger.evidence["reasons"] == ["drift"]
    assert retrain.evidence["train_rows"] > 100
    report = json.loads(Path(gate.links[0]).read_text())
    assert (
        report["verdict"] == "promote"
        and report["champion_version"] == 1
        and report["challenger_version"] == 2
    )
    assert report["bootstrap"]["n"] > 0 and Path(gate.links[1]).read_text().startswith("<!doctype html>")
    # the holdout is the matured period [now - 7d - 5d, now - 7d) and was not trained on
    assert report["holdout"]["holdout_end"] == day(31).isoformat()
    registry = Registry(champion_ws)
    assert registry.aliases("fraud")["champion"] == 2
    assert registry.resolve("fraud", 2).tags["shopml.retrain_id"] == trigger.evidence["request_id"]
    state = loop.state()
    assert state.current is None and state.history[-1]["outcome"] == "promoted"

    clock.set(day(38.5))  # the same drift episode (and cooldown): nothing more happens
    assert loop.step() == []

    event = rollback(loop, "bad promotion")
    assert registry.aliases("fraud")["champion"] == 1
    assert event.kind == "rollback" and event.evidence == {
        "version": 1,
        "previous": 2,
        "reason": "bad promotion",
        "actor": "loop",
    }
    assert [e.kind for e in store.read(model="fraud")] == [
        "drift",
        "trigger",
        "retrain",
        "gate",
        "promotion",
        "rollback",
    ]


def test_strict_gate_rejects_and_keeps_the_champion(champion_ws: Workspace, world: Path) -> None:
    from .conftest import policy_dict

    policy = LoopPolicy.model_validate(policy_dict(world, min_metric=0.999))
    events = Loop(champion_ws, policy).retrain("manual check", now=day(38))
    assert [e.kind for e in events] == ["trigger", "retrain", "gate"]
    assert events[-1].evidence["verdict"] == "reject" and "floor FAILED" in events[-1].summary
    assert Registry(champion_ws).aliases("fraud") == {"champion": 1, "challenger": 2}
    report = json.loads(Path(events[-1].links[0]).read_text())
    assert report["holdout"]["champion_data_end"] < report["holdout"]["holdout_start"]  # no overlap here

    runner, ws = CliRunner(), ["--workspace", str(champion_ws.root)]
    status = runner.invoke(app, ["loop", "status", *ws])
    assert status.exit_code == 0 and "rejected" in status.output and "manual" in status.output
    refused = runner.invoke(app, ["loop", "rollback", *ws])  # v1 was never replaced: nothing to go back to
    assert refused.exit_code == 2 and "no previous champion" in refused.output

    # the gate scores through ONNX; on real rows (nulls, unseen categories) it equals the Python pipeline
    bundle = Registry(champion_ws).load_bundle("fraud", "champion")
    table = ds.dataset(world / "transactions", partitioning="hive").to_table().slice(0, 3000)
    model = joblib.load(bundle.pipeline_path)
    expected = model.scores(to_frame(table, bundle.meta.inputs, bundle.input_kinds()))
    np.testing.assert_allclose(score_table(bundle, table, batch_size=1000), expected, atol=1e-5)


def test_first_model_without_champion_is_promoted_on_its_floor(tmp_path: Path, world: Path) -> None:
    from .conftest import policy_dict

    ws = Workspace(tmp_path / "empty").ensure()
    events = Loop(ws, LoopPolicy.model_validate(policy_dict(world, min_metric=0.05))).retrain(
        "bootstrap", now=day(38)
    )
    assert [e.kind for e in events] == ["trigger", "retrain", "gate", "promotion"]
    gate = events[2]
    assert gate.evidence["champion"] is None and gate.evidence["rule"].startswith("first model")
    assert Registry(ws).aliases("fraud") == {"champion": 1}


def test_too_little_data_is_a_recorded_failure_not_a_crash(tmp_path: Path, world: Path) -> None:
    from .conftest import policy_dict

    data = policy_dict(world)
    data["window"]["min_positives"] = 10**6
    loop = Loop(Workspace(tmp_path / "ws"), LoopPolicy.model_validate(data))
    events = loop.retrain("too early", now=day(10))
    assert [e.kind for e in events] == ["trigger", "retrain"]
    assert events[1].severity == "warning" and "need 100 rows and 1000000 positives" in events[1].summary
    state = loop.state()
    assert state.current is None and state.history[-1]["outcome"] == "failed"


def test_weighted_window_trains_with_recency_sample_weights(champion_ws: Workspace, world: Path) -> None:
    """A ``weighted`` window hands every row of the window to the fit with its weight (no subsampling)."""
    from shopml.loop.window import load_known, split_at

    from .conftest import policy_dict

    data = policy_dict(world)
    data["window"] = {**data["window"], "kind": "weighted", "half_life_days": 5}
    policy = LoopPolicy.model_validate(data)
    split = split_at(load_known(policy.data, day(38)), policy.data, policy.window, policy.gate, day(38))
    assert split.weights.min() < 0.1  # old rows weigh little
    events = Loop(champion_ws, policy).retrain("manual check", now=day(38))
    retrain = next(e for e in events if e.kind == "retrain")
    assert retrain.evidence["train_rows"] == split.train.num_rows
    bundle = Registry(champion_ws).load_bundle("fraud", 2)  # the permissive gate promoted it
    assert bundle.meta.lineage["config"]["weight_column"] == "__recency_weight"  # weights reached train
    assert "__recency_weight" not in bundle.meta.inputs
