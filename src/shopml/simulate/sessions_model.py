"""The generative model of a browsing session, vectorised over all sessions of a block of days.

A session has a latent intent fixed at its start: a category ``c`` (the customer's affinity, or the
day's category mix), a brand ``b`` and a price band. It moves through stages that narrow the intent:
**browse** (items of ``c``, some by band or brand, a little of everything), **compare** (the brand and
band, and revisits of items already seen), and, after a purchase, **accessory** (the complementary
category, same brand first). Each step first ends the session or moves the stage (``P_END``,
``P_BROWSE_TO_COMPARE``), then draws a *route* (``ROUTE_P``) and an item from that route's group,
proportionally to the day's popularity. A compare view may be carted and bought (rows of the same item).
A revisit picks a uniformly random earlier event of the session, so repeats (also immediate ones) come
from the same rule. Given the state after an event, the next item's distribution is therefore known
exactly: :mod:`shopml.simulate.sessions_oracle` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopml.simulate.sessions_catalog import COMPLEMENT, N_BRANDS, N_CATS, ItemCatalog

__all__ = [
    "MAX_EVENTS",
    "P_BROWSE_TO_COMPARE",
    "P_END",
    "ROUTES",
    "ROUTE_P",
    "Block",
    "GroupSampler",
    "generate",
]

BROWSE, COMPARE, ACCESSORY = 0, 1, 2
VIEW, CART, PURCHASE = 0, 1, 2
ROUTES = ("category", "brand", "band", "global", "revisit", "complement_brand", "complement")
#: Route probabilities per stage (rows: browse, compare, accessory).
ROUTE_P = np.array(
    [
        [0.45, 0.10, 0.25, 0.12, 0.08, 0.0, 0.0],
        [0.08, 0.42, 0.15, 0.0, 0.35, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.10, 0.10, 0.5, 0.3],
    ]
)
_ROUTE_CDF = np.cumsum(ROUTE_P, axis=1)
P_END = np.array([0.12, 0.10, 0.30])  # per step, by stage
P_BROWSE_TO_COMPARE = 0.30
P_CART, P_BUY = 0.10, 0.55
MAX_EVENTS = 48  # raw events per session at most (a session is cut there)
_GAP_MS = np.array([35_000.0, 15_000.0, 40_000.0])  # mean gap before a view, a cart, a purchase


class GroupSampler:
    """Draws items by popularity within a group (a brand or band of a category, a category, all items)
    on any day of a block: two sort orders (category-brand, category-band) with per-day cumulative sums
    laid end to end, so one ``searchsorted`` serves every day and group."""

    def __init__(self, cat: ItemCatalog, pop: np.ndarray) -> None:
        self.n_days, self.n = pop.shape
        self.pop = pop
        self.orders, self.bounds, self.cums = [], [], []
        for key, width in ((cat.category * N_BRANDS + cat.brand, N_BRANDS), (cat.category * 3 + cat.band, 3)):
            order = np.argsort(key, kind="stable")
            self.orders.append(order)
            self.bounds.append(np.searchsorted(key[order], np.arange(N_CATS * width + 1)))
            self.cums.append(np.concatenate([[0.0], np.cumsum(pop[:, order].ravel())]))

    def ranges(
        self,
        route: np.ndarray,
        c: np.ndarray,
        b: np.ndarray,
        band: np.ndarray,
        bought_brand: np.ndarray,
        day: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sort order 0/1, lo, hi) of each row's route group, with empty groups falling back to the
        category (brand, band) or the complementary category (complement brand)."""
        comp = COMPLEMENT[c]
        bA, bB = self.bounds
        which = (route == 2).astype(np.int64)
        lo = np.where(route == 3, 0, bA[c * N_BRANDS])
        hi = np.where(route == 3, self.n, bA[(c + 1) * N_BRANDS])
        brand = route == 1
        lo, hi = np.where(brand, bA[c * N_BRANDS + b], lo), np.where(brand, bA[c * N_BRANDS + b + 1], hi)
        bnd = route == 2
        lo, hi = np.where(bnd, bB[c * 3 + band], lo), np.where(bnd, bB[c * 3 + band + 1], hi)
        cb = route == 5
        g = comp * N_BRANDS + bought_brand
        lo, hi = np.where(cb, bA[g], lo), np.where(cb, bA[g + 1], hi)
        cc = route == 6
        lo, hi = np.where(cc, bA[comp * N_BRANDS], lo), np.where(cc, bA[(comp + 1) * N_BRANDS], hi)
        empty = self.mass(which, day, lo, hi) <= 0
        if empty.any():  # brand/band → category; complement brand → complement category
            base = np.where(cb, comp, c)[empty]
            which[empty] = 0
            lo[empty], hi[empty] = bA[base * N_BRANDS], bA[(base + 1) * N_BRANDS]
        return which, lo, hi

    def mass(self, which: np.ndarray, day: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Total popularity of each row's group on its day."""
        out = np.empty(len(lo))
        for w in (0, 1):
            m = which == w
            off = day[m] * self.n
            out[m] = self.cums[w][off + hi[m]] - self.cums[w][off + lo[m]]
        return out

    def sample(
        self, which: np.ndarray, day: np.ndarray, lo: np.ndarray, hi: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """One item per row, drawn by popularity within its group on its day."""
        out = np.empty(len(lo), np.int64)
        for w in (0, 1):
            m = np.flatnonzero(which == w)
            if m.size == 0:
                continue
            cum, off = self.cums[w], day[m] * self.n
            start, stop = cum[off + lo[m]], cum[off + hi[m]]
            pos = np.searchsorted(cum, start + u[m] * (stop - start), "right") - 1
            pos = np.clip(pos, off + lo[m], off + hi[m] - 1)
            out[m] = self.orders[w][pos - off]
        return out


@dataclass
class Block:
    """The sessions of a block of days: per session its day (block-relative), start time (ms since the
    epoch) and intent; filled in by :func:`generate` with the events and, if asked, the truth."""

    day: np.ndarray
    start_ms: np.ndarray
    c: np.ndarray
    b: np.ndarray
    band: np.ndarray


def generate(
    block: Block, sampler: GroupSampler, cat: ItemCatalog, rng: np.random.Generator, truth: bool = False
) -> dict[str, np.ndarray]:
    """Simulate every session of ``block``; returns per event ``session`` (index into the block), ``pos``
    (0-based within the session), ``item``, ``type`` and ``ms``, sorted by session then position. With
    ``truth``: also ``stage`` and ``bought`` (the bought item or -1) after each event."""
    n = len(block.day)
    hist = np.zeros((n, MAX_EVENTS), np.int64)
    length = np.zeros(n, np.int64)
    stage = np.zeros(n, np.int64)
    bought = np.full(n, -1, np.int64)
    t = block.start_ms.astype(np.float64)
    alive = np.arange(n)
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("session", "pos", "item", "type", "ms", "stage", "bought")
    }

    def emit(rows: np.ndarray, items: np.ndarray, kind: int) -> None:
        t[rows] += 1000.0 + rng.exponential(_GAP_MS[kind], rows.size)
        hist[rows, length[rows]] = items
        for k, v in (
            ("session", rows),
            ("pos", length[rows].copy()),
            ("item", items),
            ("ms", t[rows].copy()),
        ):
            cols[k].append(v)
        cols["type"].append(np.full(rows.size, kind, np.int8))
        if truth:
            cols["stage"].append(stage[rows].copy())
            cols["bought"].append(bought[rows].copy())
        length[rows] += 1

    first = True
    while alive.size:
        s = stage[alive]
        u = rng.random(alive.size)
        if not first:  # end, or move the stage (browse → compare), before each step
            keep = u >= P_END[s]
            alive, s, u = alive[keep], s[keep], (u[keep] - P_END[s[keep]]) / (1 - P_END[s[keep]])
            move = (s == BROWSE) & (u < P_BROWSE_TO_COMPARE)
            stage[alive[move]] = COMPARE
            s = stage[alive]
        first = False
        r = (rng.random(alive.size)[:, None] >= _ROUTE_CDF[s]).sum(axis=1)
        r = np.where((r == 4) & (length[alive] == 0), 0, r)  # nothing to revisit yet
        items = np.empty(alive.size, np.int64)
        rev = r == 4
        pick = (rng.random(int(rev.sum())) * length[alive[rev]]).astype(np.int64)
        items[rev] = hist[alive[rev], pick]
        new = ~rev
        rows = alive[new]
        bb = cat.brand[np.maximum(bought[rows], 0)]
        which, lo, hi = sampler.ranges(
            r[new], block.c[rows], block.b[rows], block.band[rows], bb, block.day[rows]
        )
        items[new] = sampler.sample(which, block.day[rows], lo, hi, rng.random(rows.size))
        emit(alive, items, VIEW)
        # a compare view may be carted, and a carted item bought (then: accessories)
        comp = np.flatnonzero((stage[alive] == COMPARE) & (rng.random(alive.size) < P_CART))
        comp = comp[length[alive[comp]] < MAX_EVENTS]
        if comp.size:
            emit(alive[comp], items[comp], CART)
            buy = comp[(rng.random(comp.size) < P_BUY) & (length[alive[comp]] < MAX_EVENTS)]
            stage[alive[buy]], bought[alive[buy]] = ACCESSORY, items[buy]
            emit(alive[buy], items[buy], PURCHASE)
        alive = alive[length[alive] < MAX_EVENTS]
    out = {k: np.concatenate(v) if v else np.empty(0, np.int64) for k, v in cols.items()}
    order = np.lexsort((out["pos"], out["session"]))
    return {k: v[order] for k, v in out.items() if truth or k not in ("stage", "bought")}
