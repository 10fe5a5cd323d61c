"""A servable recommender bundle from a :class:`shopml.recs.model.GRURec`, for serving tests and benchmarks.

The bundle is what ``shopml train --task recs`` publishes (kind ``ranking``, ONNX inputs ``items`` and
``lengths``, ``items``, ``top_k``, ``popular``, ``max_session_length`` in ``bundle.json``), written
without the training run's report and metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopml.recs.bundle import MAX_SESSION
from shopml.recs.export import check_parity, export_onnx
from shopml.registry.bundle import BundleMeta, ModelBundle, write_bundle

__all__ = ["random_sessions", "write_recs_bundle"]


def random_sessions(n_items: int, n: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sessions of ``length`` items (the ONNX inputs ``items``, ``lengths``)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_items, (n, length), dtype=np.int64), np.full(n, length, np.int64)


def write_recs_bundle(
    path: Path, model: Any, items: list[str], popular: list[str], *, k: int = 20, name: str = "recs"
) -> ModelBundle:
    """Export ``model`` (parity-checked on random sessions) and write a ranking bundle at ``path``."""
    raw = export_onnx(model)
    x, lengths = random_sessions(len(items), 16, 5)
    parity = check_parity(raw, model, x, lengths, k=min(k, len(items)))
    meta = BundleMeta.model_validate(
        {
            "name": name,
            "task": "recs",
            "kind": "ranking",
            "schema": {"features": [{"name": "session", "kind": "text"}]},
            "inputs": ["items", "lengths"],
            "score_output": "scores",
            "target": "next_item",
            "metrics": {},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "items": items,
            "top_k": k,
            "popular": popular,
            "max_session_length": MAX_SESSION,
            "parity": parity.to_dict(),
        }
    )
    return write_bundle(path, meta, raw)
