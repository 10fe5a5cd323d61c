"""The true next-item distribution of simulated sessions: an oracle bound for recommenders.

The sessions of a world are replayed from its manifest (the same seed, customers and days, nothing
written) keeping the state after every event: stage, intent, bought item and history. Given the state
after a session's event at raw position ``pos``, the next event's item follows a known mixture
(:mod:`shopml.simulate.sessions_model`): the stage move, then each route's group drawn by the day's
popularity, plus revisits of the session's earlier events. The oracle scores an item by that
probability and scores the current item lowest, since a recommender is scored on the next *different*
item (immediate repeats are collapsed): the oracle knows the latent intent, so no model can be expected
to rank better on average.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from shopml.errors import DataError
from shopml.simulate.catalog import WEEKDAY_FACTOR, holiday_factor
from shopml.simulate.engine import population
from shopml.simulate.params import SimulationParams
from shopml.simulate.scenarios import day_effects
from shopml.simulate.sessions import SessionStream
from shopml.simulate.sessions_catalog import COMPLEMENT
from shopml.simulate.sessions_model import BROWSE, COMPARE, P_BROWSE_TO_COMPARE, ROUTE_P
from shopml.simulate.world import ActiveWeights

__all__ = ["SessionOracle", "replay"]


def replay(p: SimulationParams) -> SessionStream:
    """The session stream of a world with parameters ``p``, replayed with its truth (nothing written).
    The day loop mirrors :func:`shopml.simulate.simulate`'s."""
    pop = population(p)
    stream = SessionStream(p, pop, Path("."), None, keep_truth=True)
    weights = ActiveWeights(pop, -p.warmup_days)
    for day in range(p.days):
        d = p.start + timedelta(days=day)
        eff = day_effects(p, day)
        hv, _ = holiday_factor(d)
        cumw = np.cumsum(weights.at(day))
        volume = float(cumw[-1]) * WEEKDAY_FACTOR[d.weekday()] * hv * eff.volume
        stream.day(day, cumw, volume, eff.gift_mix)
    stream.close()
    return stream


class SessionOracle:
    """Next-item probabilities of a simulated world's sessions (``world_dir`` holds ``manifest.json``)."""

    def __init__(self, world_dir: str | Path) -> None:
        path = Path(world_dir) / "manifest.json"
        if not path.is_file():
            raise DataError(f"no manifest.json in {world_dir}: the oracle needs a simulated world")
        params: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["params"]
        if not params.get("session_rate"):
            raise DataError(f"the world in {world_dir} has no sessions (session_rate 0)")
        self.params = SimulationParams.model_validate(params)
        stream = replay(self.params)
        self.catalog = stream.catalog
        ev: dict[str, list[np.ndarray]] = {}
        self._pop: list[np.ndarray] = []
        for i, blk in enumerate(stream.blocks_):
            e, b = blk["events"], blk["block"]
            s = e["session"]
            for k, v in (
                ("id", blk["ids"][s]),
                ("pos", e["pos"]),
                ("item", e["item"]),
                ("stage", e["stage"]),
                ("bought", e["bought"]),
                ("day", b.day[s]),
                ("c", b.c[s]),
                ("b", b.b[s]),
                ("band", b.band[s]),
                ("block", np.full(s.size, i)),
            ):
                ev.setdefault(k, []).append(v)
            self._pop.append(blk["pop"])
        self.events = {k: np.concatenate(v) for k, v in ev.items()}
        self._start = np.searchsorted(self.events["id"], np.arange(int(self.events["id"].max()) + 2))

    def rows(self, session: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Event rows of (session ordinal, raw position) pairs; DataError for an unknown pair."""
        session, pos = np.asarray(session, np.int64), np.asarray(pos, np.int64)
        if session.size and (session.min() < 0 or session.max() >= len(self._start) - 1):
            raise DataError("oracle: session ordinal outside the simulated world")
        row = self._start[session] + pos
        if (row >= self._start[session + 1]).any() or (pos < 0).any():
            raise DataError("oracle: event position outside its session")
        return row

    def scores(self, session: np.ndarray, pos: np.ndarray, items: np.ndarray, chunk: int = 256) -> np.ndarray:
        """[n, len(items)] probability that the event after (session, raw ``pos``) is each of ``items``
        (catalogue indices), the current item scored -1."""
        rows = self.rows(session, pos)
        items = np.asarray(items, np.int64)
        out = np.empty((rows.size, items.size), np.float32)
        for lo in range(0, rows.size, chunk):
            out[lo : lo + chunk] = self._chunk(rows[lo : lo + chunk])[:, items]
        return out

    def _chunk(self, rows: np.ndarray) -> np.ndarray:
        e, cat = self.events, self.catalog
        pop = np.stack([self._pop[e["block"][r]][e["day"][r]] for r in rows])  # [n, N]
        c, b, band, stage = (
            e["c"][rows][:, None],
            e["b"][rows][:, None],
            e["band"][rows][:, None],
            e["stage"][rows],
        )
        comp = COMPLEMENT[e["c"][rows]][:, None]
        bb = cat.brand[np.maximum(e["bought"][rows], 0)][:, None]
        in_c = cat.category[None, :] == c
        in_comp = cat.category[None, :] == comp
        groups = [
            in_c,
            in_c & (cat.brand[None, :] == b),
            in_c & (cat.band[None, :] == band),
            np.ones_like(in_c),
            None,
            in_comp & (cat.brand[None, :] == bb),
            in_comp,
        ]
        # the stage of the next step: browse moves to compare with P_BROWSE_TO_COMPARE
        w = ROUTE_P[stage].copy()
        browse = stage == BROWSE
        w[browse] = (1 - P_BROWSE_TO_COMPARE) * ROUTE_P[BROWSE] + P_BROWSE_TO_COMPARE * ROUTE_P[COMPARE]
        prob = np.zeros(pop.shape)
        fallback = {1: 0, 2: 0, 5: 6}
        for r, g in enumerate(groups):
            if g is None or not w[:, r].any():
                continue
            mass = (pop * g).sum(axis=1)
            target = np.where(mass > 0, r, fallback.get(r, r))
            for t in np.unique(target):
                m = target == t
                gt = groups[t]
                if gt is None:
                    continue
                mt = (pop[m] * gt[m]).sum(axis=1)
                prob[m] += (w[m, r] / np.maximum(mt, 1e-300))[:, None] * pop[m] * gt[m]
        # revisits: uniform over the session's events so far
        start = self._start[e["id"][rows]]
        for i, r in enumerate(rows):
            hist = e["item"][start[i] : r + 1]
            np.add.at(prob[i], hist, w[i, 4] / hist.size)
        prob[np.arange(rows.size), e["item"][rows]] = -1.0
        return prob
