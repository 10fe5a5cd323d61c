"""The ``sessions`` table (browsing events) and the ``items`` catalogue, generated in blocks of days.

The simulator's day loop hands each day's active customers and volume to :class:`SessionStream`; the
day's sessions (``session_rate`` per unit of customer activity, at local times of the daily profile) are
drawn at once, and their events are generated for a whole block of days together
(:func:`shopml.simulate.sessions_model.generate`), so the cost is a few hundred numpy calls per block,
not per day. A session is cut at midnight UTC of its start day (one partition per day).
Everything is seeded from the world's seed on its own streams: the other tables do not change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shopml.simulate.catalog import PRODUCT_CATEGORIES
from shopml.simulate.fastops import sorted_uniforms, stable_argsort
from shopml.simulate.io import PartitionWriter, epoch_us, fixed_ids, timestamps
from shopml.simulate.legit import local_times_ms
from shopml.simulate.params import SimulationParams
from shopml.simulate.sessions_catalog import (
    CATEGORY_NAMES,
    HOT_CATEGORY,
    ITEM_SCHEMA,
    N_BRANDS,
    ItemCatalog,
    build_catalog,
    category_multipliers,
)
from shopml.simulate.sessions_model import Block, GroupSampler, generate
from shopml.simulate.world import Population

__all__ = [
    "EVENT_TYPES",
    "SESSION_SCHEMA",
    "SessionStream",
    "session_drift_events",
    "session_manifest",
    "small_strings",
    "stream_rng",
]

EVENT_TYPES = ("view", "cart", "purchase")
SESSION_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("customer_id", pa.string()),
        ("item_id", pa.string()),
        ("event_type", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
    ]
)
P_AFFINITY = 0.6  # a session's category is the customer's own (favourite or second favourite)
P_FAV_BRAND, P_OWN_BAND = 0.5, 0.7
BLOCK_SESSIONS = 20_000  # sessions generated together (memory stays bounded at any scale)
DAY_MS = 86_400_000
_CAT_W = np.array([c.weight for c in PRODUCT_CATEGORIES])


def small_strings(names: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Strings ``names[index]`` built from buffers (``categorical`` goes through ``take``, ~10x slower
    on large columns).

    >>> small_strings(("view", "purchase"), np.array([1, 0])).to_pylist()
    ['purchase', 'view']
    """
    raw = [n.encode() for n in names]
    width = max(len(r) for r in raw)
    table = np.zeros((len(raw), width), np.uint8)
    for i, r in enumerate(raw):
        table[i, : len(r)] = np.frombuffer(r, np.uint8)
    lens = np.array([len(r) for r in raw], np.int32)[index]
    offsets = np.concatenate([[0], np.cumsum(lens, dtype=np.int32)]).astype(np.int32)
    data = table[index][np.arange(width)[None, :] < lens[:, None]]
    return pa.StringArray.from_buffers(len(index), pa.py_buffer(offsets), pa.py_buffer(data))


def stream_rng(seed: int, stream: int, day: int) -> np.random.Generator:
    """The generator of one session stream (10: customers of a day, 11: a block's events, 12: world)."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=(stream, day + 1000)))
    )


@dataclass
class _Day:
    day: int
    cust: np.ndarray
    start_ms: np.ndarray
    gift_mix: float


@dataclass
class SessionStream:
    """Collects days, generates blocks of sessions, and writes ``sessions/`` and ``items/``.

    With ``keep_truth`` nothing is written and every block's events (with the state after each event)
    are kept in ``blocks_`` for the oracle.
    """

    p: SimulationParams
    pop: Population
    out_dir: Path
    writer: PartitionWriter | None
    keep_truth: bool = False
    rows_: int = 0
    items_: int = 0
    partitions_: list[str] = field(default_factory=list)
    blocks_: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = stream_rng(self.p.seed, 12, 0)
        self.catalog: ItemCatalog = build_catalog(self.p, rng)
        n = self.pop.n
        second = (self.pop.fav_product + 1 + rng.integers(0, len(CATEGORY_NAMES) - 1, n)) % len(
            CATEGORY_NAMES
        )
        self.affinity = np.where(rng.random(n) < 0.65, self.pop.fav_product, second)
        self.fav_brand = rng.integers(0, N_BRANDS, n)
        self.own_band = np.digitize(self.pop.spend, [0.8, 1.3])
        self._days: list[_Day] = []
        self._pending = 0
        self._next_id = 0
        self._queue: deque[tuple[date, Callable[[], pa.Table]]] = deque()

    def day(self, day: int, cumw: np.ndarray, volume: float, gift_mix: float) -> None:
        """Draw day ``day``'s sessions (customers by activity ``cumw``, ``volume`` x ``session_rate``)."""
        rng = stream_rng(self.p.seed, 10, day)
        n = int(rng.poisson(volume * self.p.session_rate))
        cust = np.searchsorted(cumw, sorted_uniforms(rng, n) * cumw[-1], "right").astype(np.int64)
        ms = epoch_us(self.p.start + timedelta(days=day)) // 1000 + local_times_ms(rng, self.pop.tz[cust])
        order = stable_argsort(ms)
        self._days.append(_Day(day, cust[order], ms[order], gift_mix))
        self._pending += n
        if self._pending >= BLOCK_SESSIONS:
            self._flush()
        for _ in range(min(2, len(self._queue))):  # spread a block's writes over the next days
            self._submit()

    def close(self) -> None:
        """Generate the last block and queue the ``items`` table."""
        self._flush()
        while self._queue:
            self._submit()
        if self.writer is not None:
            table = self.catalog.table(self.p)
            folder = self.out_dir / "items"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / "part-0.parquet", compression="snappy")
            self.items_ = table.num_rows

    def _flush(self) -> None:
        if not self._days:
            return
        days = self._days
        self._days, self._pending = [], 0
        first = days[0].day
        day_idx = np.arange(first, days[-1].day + 1)
        mult = category_multipliers(self.p, day_idx, np.array([d.gift_mix for d in days]))
        sampler = GroupSampler(self.catalog, self.catalog.popularity(day_idx, mult))
        rng = stream_rng(self.p.seed, 11, first)
        cust = np.concatenate([d.cust for d in days])
        rel = np.repeat(np.arange(len(days)), [len(d.cust) for d in days])
        n = len(cust)
        mix = _CAT_W[None, :] * mult
        cdf = np.cumsum(mix, axis=1) / mix.sum(axis=1, keepdims=True)
        c = (rng.random(n)[:, None] >= cdf[rel]).sum(axis=1)
        own = rng.random(n) < P_AFFINITY
        c[own] = self.affinity[cust[own]]
        anyb = sampler.sample(np.zeros(n, np.int64), rel, *self._cat_range(sampler, c), rng.random(n))
        b = np.where(rng.random(n) < P_FAV_BRAND, self.fav_brand[cust], self.catalog.brand[anyb])
        band = np.where(rng.random(n) < P_OWN_BAND, self.own_band[cust], rng.integers(0, 3, n))
        block = Block(rel, np.concatenate([d.start_ms for d in days]), c, b, band)
        ev = generate(block, sampler, self.catalog, rng, truth=self.keep_truth)
        ids = self._next_id + np.arange(n)
        self._next_id += n
        ev_day = ev["ms"].astype(np.int64) // DAY_MS
        start_day = block.start_ms[ev["session"]] // DAY_MS
        keep = ev_day == start_day  # cut at midnight UTC
        ev = {k: v[keep] for k, v in ev.items()}
        if self.keep_truth:
            self.blocks_.append(
                {"first": first, "ids": ids, "cust": cust, "block": block, "events": ev, "pop": sampler.pop}
            )
            return
        bounds = np.searchsorted(rel[ev["session"]], np.arange(len(days) + 1))
        for i, d in enumerate(days):
            self._write(d.day, {k: v[bounds[i] : bounds[i + 1]] for k, v in ev.items()}, ids, cust)

    @staticmethod
    def _cat_range(sampler: GroupSampler, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bounds = sampler.bounds[0]
        return bounds[c * N_BRANDS], bounds[(c + 1) * N_BRANDS]

    def _write(self, day: int, ev: dict[str, np.ndarray], ids: np.ndarray, cust: np.ndarray) -> None:
        s, item, kind = ev["session"], ev["item"], ev["type"]
        us = ev["ms"].astype(np.int64) * 1000

        def build() -> pa.Table:
            return pa.Table.from_arrays(
                [
                    fixed_ids("s", ids[s], 9),
                    fixed_ids("c", cust[s], 9),
                    fixed_ids("i", item, 7),
                    small_strings(EVENT_TYPES, kind),
                    timestamps(us),
                ],
                schema=SESSION_SCHEMA,
            )

        when = self.p.start + timedelta(days=day)
        self._queue.append((when, build))
        self.partitions_.append(when.isoformat())
        self.rows_ += int(s.size)

    def _submit(self) -> None:
        when, build = self._queue.popleft()
        if self.writer is None:
            raise RuntimeError("a session stream that keeps the truth writes nothing")
        self.writer.submit(self.out_dir / "sessions", when, build)


def session_drift_events(p: SimulationParams, start: str | None, end: str | None) -> list[dict[str, Any]]:
    """The drift log's entries for ``sessions``/``items`` (new items, trend shift, gift season)."""
    m = float(p.magnitude or 0.0)
    base = {"start": start, "end": end, "table": "sessions"}
    if p.scenario == "new_items":
        return [
            base
            | {
                "features": ["item_id"],
                "relationship": "P(x)",
                "expected": False,
                "description": f"new-items surge: launches x{1 + 3 * m:.1f}, new items x{1 + m:.1f} as "
                "attractive; most recommended items are unseen by older models (cold items)",
            }
        ]
    if p.scenario == "trend_shift":
        return [
            base
            | {
                "features": ["item_id", "category"],
                "relationship": "P(x)",
                "expected": False,
                "description": f"trend shift: category '{CATEGORY_NAMES[HOT_CATEGORY]}' becomes hot "
                f"(x{1 + 4 * m:.1f} in sessions' intents and in popularity)",
            }
        ]
    if p.scenario == "seasonal":
        return [
            base
            | {
                "features": ["item_id", "category"],
                "relationship": "P(x)",
                "expected": True,
                "description": "gift season in browsing: gift categories' intents and items surge",
            }
        ]
    return []


def session_manifest(rows: int, items: int, partitions: list[str]) -> dict[str, Any]:
    """The manifest entries of ``sessions`` and ``items``."""
    return {
        "sessions": {
            "path": "sessions",
            "rows": rows,
            "partitions": partitions,
            "partitioning": "hive: date=YYYY-MM-DD",
            "id_column": "session_id",
            "time_column": "event_time",
            "target": None,
            "columns": {f.name: str(f.type) for f in SESSION_SCHEMA},
        },
        "items": {
            "path": "items",
            "rows": items,
            "partitions": [],
            "partitioning": "none",
            "id_column": "item_id",
            "time_column": "launched_at",
            "target": None,
            "columns": {f.name: str(f.type) for f in ITEM_SCHEMA},
        },
    }
