"""A small simulated world with a drift at day 25, a first champion trained on days 0–20, and a policy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
import yaml

from shopml.config import Workspace
from shopml.loop.policy import LoopPolicy

START = datetime(2025, 3, 3, tzinfo=UTC)
#: A training budget small enough for tests: one XGBoost fit, few trees, few bootstrap draws.
TINY: dict[str, Any] = {
    "search": {"n_trials": 1},
    "model": {"n_estimators": 40, "max_depth": 4, "n_jobs": 1},
    "bootstrap": 20,
    "learning_curve_sizes": [1.0],
    "parity_rows": 200,
    "split": {"test_gap_days": 1.0},
}


def day(n: float) -> datetime:
    """Simulated day ``n`` of the test world."""
    return START + timedelta(days=n)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shopml.simulate import simulate

    out = tmp_path_factory.mktemp("world")
    simulate(out, days=40, seed=3, scenario="sudden_covariate", customers=2000, fraud_rate=0.03, onset=25)
    return out


def policy_dict(world: Path, **gate: Any) -> dict[str, Any]:
    """The loop policy of the tests (a permissive gate unless overridden)."""
    return {
        "model": "fraud",
        "task": "fraud",
        "train_config": TINY,
        "data": {"path": str(world / "transactions")},
        "window": {
            "kind": "sliding",
            "days": 30,
            "pending_labels": "negative",
            "min_rows": 100,
            "min_positives": 5,
        },
        "gate": {
            "holdout_days": 5,
            "label_maturity_days": 7,
            "min_positives": 5,
            "n_bootstrap": 200,
            "mode": "non_inferior",
            "margin": 0.5,
            **gate,
        },
        "triggers": {"cooldown_hours": 24, "episode_gap_hours": 48},
    }


@pytest.fixture
def champion_ws(tmp_path: Path, world: Path) -> Workspace:
    """A workspace whose registry holds v1 = champion, trained on days 0–20 (eventual labels)."""
    from shopml.train import preset, train

    ws = Workspace(tmp_path / "ws").ensure()
    table = ds.dataset(world / "transactions", partitioning="hive").to_table()
    early = table.filter(pc.less(table.column("event_time"), pa.scalar(day(20), pa.timestamp("us", "UTC"))))
    train(preset("fraud", world, label_available_column=None, **TINY), table=early, workspace=ws)
    return ws


@pytest.fixture
def loop_policy(world: Path, champion_ws: Workspace) -> LoopPolicy:
    data = policy_dict(world)
    (champion_ws.root / "loop.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return LoopPolicy.model_validate(data)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on 127.0.0.1: records each POST (path, body, headers); answers 204, or 500 on a
    path containing ``fail``. Yields its base URL and the list of deliveries."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append({"path": self.path, "body": body, "headers": dict(self.headers)})
            self.send_response(500 if "fail" in self.path else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()
    server.server_close()
