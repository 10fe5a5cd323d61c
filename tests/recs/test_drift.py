"""The recommender's drift checks on served traffic from the simulator: the requested items' popularity,
the cold-item share and the top-1 score against the references the training run wrote. A clean day right
after training raises nothing; a day of the new-items surge moves popularity and the cold share."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.compute as pc
import pytest

from shopml.config import Workspace
from shopml.monitor.drift.outputs import OutputCheck
from shopml.recs.bundle import publish_recs
from shopml.recs.data import load_events
from shopml.recs.gru import GRUParams
from shopml.recs.train import RecsConfig, fit_and_evaluate
from shopml.registry import Registry
from shopml.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.recs_fixture import LocalServer  # noqa: E402

TINY = GRUParams(embedding=8, hidden=16, batch=256, n_sample=64, max_epochs=1, lr=1e-2)
ONSET = 8


@pytest.fixture(scope="module")
def surge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 12-day world whose new-items surge starts on day 8, and a GRU trained on days 0–6."""
    import torch

    torch.set_num_threads(1)
    world = tmp_path_factory.mktemp("surge")
    simulate(world, days=12, customers=2500, seed=5, session_rate=0.25, scenario="new_items", onset=ONSET)
    start = _start(world)
    cfg = RecsConfig(
        world,
        test_days=1,
        gru=TINY,
        n_resamples=50,
        refit=False,
        valid_sessions=300,
        parity_sessions=50,
        until=start + timedelta(days=7),
        baselines=False,
    )
    result = publish_recs(cfg, fit_and_evaluate(cfg), ws=None, register=False, out_dir=world / "bundle")
    return world, Path(str(result.bundle_dir))


def _start(world: Path) -> Any:
    table, _ = load_events(world)
    first = pc.min(table["event_time"]).as_py()
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def _requests(world: Path, day: int) -> list[dict[str, Any]]:
    """Every event of the sessions of ``day`` as a request holding its session so far."""
    table, _ = load_events(world)
    lo = _start(world) + timedelta(days=day)
    t = table["event_time"]
    day_events = table.filter(pc.and_(pc.greater_equal(t, lo), pc.less(t, lo + timedelta(days=1))))
    rows = sorted(day_events.to_pylist(), key=lambda r: (r["session_key"], r["event_time"]))
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        same = i > 0 and rows[i - 1]["session_key"] == r["session_key"]
        session = [*out[-1]["session"], r["item_id"]] if same else [r["item_id"]]
        out.append({"session": session, "session_id": r["session_key"]})
    return out


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


def test_clean_day_raises_nothing_and_the_surge_is_detected(surge: tuple[Path, Path], tmp_path: Path) -> None:
    world, bundle = surge
    clean = _served_checks(bundle, tmp_path / "clean", _requests(world, 7))
    assert set(clean) == {"item", "session", "unknown_items", "score"}
    # the requests (popularity, cold share) and the score are quiet; the top-1 item of a one-epoch model
    # that answers nearly always the same few items is not a fair test of a clean day, so it is not asserted
    quiet = {k: c for k, c in clean.items() if k != "item"}
    assert all(c.verdict == "ok" for c in quiet.values()), {k: c.to_dict() for k, c in quiet.items()}
    late = _served_checks(bundle, tmp_path / "late", _requests(world, 11))
    assert late["unknown_items"].drifted and late["session"].drifted, {
        k: c.to_dict() for k, c in late.items()
    }
    assert late["unknown_items"].statistic is not None and late["unknown_items"].statistic >= 0.05
