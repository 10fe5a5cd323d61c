"""Small simulated worlds shared by the simulator tests (built once per session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from shopml.simulate import SimulationResult, simulate

World = Callable[..., SimulationResult]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """``world(**params)``: a simulated world, cached by its parameters."""
    cache: dict[tuple[tuple[str, Any], ...], SimulationResult] = {}

    def make(**params: Any) -> SimulationResult:
        key = tuple(sorted(params.items()))
        if key not in cache:
            out = tmp_path_factory.mktemp("world")
            cache[key] = simulate(out, **params)
        return cache[key]

    return make


def read(result: SimulationResult, table: str) -> pa.Table:
    """A whole table of a world (hive partition column ``date`` dropped)."""
    t = ds.dataset(Path(result.out_dir) / table, format="parquet", partitioning="hive").to_table()
    return t.drop_columns(["date"])


def day_index(table: pa.Table, result: SimulationResult, column: str = "event_time") -> np.ndarray:
    """0-based day of each row relative to the world's start."""
    us = pc.cast(table[column], pa.int64()).to_numpy()
    start = np.datetime64(result.params.start, "us").astype(np.int64)
    return (us - start) // 86_400_000_000
