"""The item catalogue of the browsing sessions: categories, brands, price bands and life cycles.

Every item has a Zipf attractiveness (a random rank, exponent ``ZIPF_S``) and a life cycle: it launches
on its day, ramps up within days and fades exponentially with its own time constant (log-normal, median
``FADE_DAYS``). Items launch every day (``LAUNCHES_PER_DAY``), and the catalogue starts
``HISTORY_DAYS`` before the first day so that the first day is already in steady state. An item's
popularity on day ``d`` is attractiveness x life cycle x the day's category multiplier (trend and gift
season). The whole catalogue, future launches included, is fixed by the seed and the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shopml.simulate.catalog import PRODUCT_CATEGORIES
from shopml.simulate.io import categorical, epoch_us, fixed_ids, timestamps
from shopml.simulate.params import SimulationParams

__all__ = [
    "BANDS",
    "CATEGORY_NAMES",
    "COMPLEMENT",
    "HOT_CATEGORY",
    "ITEM_SCHEMA",
    "N_BRANDS",
    "ItemCatalog",
    "build_catalog",
    "category_multipliers",
]

CATEGORY_NAMES = tuple(c.name for c in PRODUCT_CATEGORIES)
N_CATS = len(CATEGORY_NAMES)
N_BRANDS = 24
BANDS = ("budget", "mid", "premium")
_BAND_P = np.array([0.35, 0.45, 0.20])
_BAND_PRICE = np.array([0.55, 1.0, 2.0])
LAUNCHES_PER_DAY = 24
HISTORY_DAYS = 180
ZIPF_S = 0.9
FADE_DAYS = 25.0
#: The category bought with each category's items (accessories and complements).
COMPLEMENT = np.array(
    [CATEGORY_NAMES.index(n) for n in ("shoes", "clothing", "electronics", "furniture", "jewelry")]
    + [CATEGORY_NAMES.index(n) for n in ("books", "clothing", "toys", "beauty", "home")]
)
#: The category that becomes hot in the ``trend_shift`` scenario.
HOT_CATEGORY = CATEGORY_NAMES.index("sports")
ITEM_SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("category", pa.string()),
        ("brand", pa.string()),
        ("price", pa.float64()),
        ("launched_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass
class ItemCatalog:
    """Items ``0..n-1`` (launch order) with their attributes; ``group_*`` give the sampling orders."""

    category: np.ndarray  # int index into CATEGORY_NAMES
    brand: np.ndarray  # int 0..N_BRANDS-1
    band: np.ndarray  # int index into BANDS
    price: np.ndarray  # EUR
    launch_day: np.ndarray  # float days relative to start (negative: before)
    attract: np.ndarray  # Zipf attractiveness
    fade: np.ndarray  # life-cycle time constant in days

    @property
    def n(self) -> int:
        """Number of items (future launches included)."""
        return len(self.category)

    def launched_by(self, day: int) -> int:
        """Number of items launched before the end of ``day`` (items are in launch order)."""
        return int(np.searchsorted(self.launch_day, day + 1.0, "left"))

    def popularity(self, days: np.ndarray, catmult: np.ndarray) -> np.ndarray:
        """[len(days), n] popularity at noon of each day; ``catmult`` [len(days), N_CATS]."""
        age = np.asarray(days, np.float64)[:, None] + 0.5 - self.launch_day[None, :]
        life = np.where(age > 0, -np.expm1(-np.maximum(age, 0) / 1.5) * np.exp(-age / self.fade), 0.0)
        return self.attract * life * catmult[:, self.category]

    def table(self, p: SimulationParams) -> pa.Table:
        """The ``items`` table: every item launched by the end of the last day."""
        n = self.launched_by(p.days - 1)
        us = epoch_us(p.start) + (self.launch_day[:n] * 86_400e6).astype(np.int64)
        return pa.Table.from_arrays(
            [
                fixed_ids("i", np.arange(n), 7),
                categorical(CATEGORY_NAMES, self.category[:n]),
                fixed_ids("b", self.brand[:n], 2),
                pa.array(self.price[:n], pa.float64()),
                timestamps(us),
            ],
            schema=ITEM_SCHEMA,
        )


def build_catalog(p: SimulationParams, rng: np.random.Generator) -> ItemCatalog:
    """Draw the catalogue of a world (``new_items``: the launch rate rises by ``1 + 3 x magnitude`` from
    the onset and the new items are ``1 + magnitude`` times as attractive)."""
    onset, m = int(p.onset or 0), float(p.magnitude or 0.0)
    per_day = np.full(HISTORY_DAYS + p.days, float(LAUNCHES_PER_DAY))
    if p.scenario == "new_items":
        per_day[HISTORY_DAYS + onset :] *= 1 + 3 * m
    counts = rng.poisson(per_day)
    n = int(counts.sum())
    day = np.repeat(np.arange(-HISTORY_DAYS, p.days), counts)
    launch = day + rng.random(n)
    launch = launch[np.argsort(launch, kind="stable")]
    cw = np.array([c.weight for c in PRODUCT_CATEGORIES])
    category = rng.choice(N_CATS, size=n, p=cw / cw.sum())
    zipf = 1.0 / np.arange(1, N_BRANDS + 1)
    brand_p = np.stack([zipf[rng.permutation(N_BRANDS)] for _ in range(N_CATS)])
    brand_cdf = np.cumsum(brand_p, axis=1) / brand_p.sum(axis=1, keepdims=True)
    brand = (rng.random(n)[:, None] > brand_cdf[category]).sum(axis=1)
    band = rng.choice(3, size=n, p=_BAND_P)
    median = np.array([c.median for c in PRODUCT_CATEGORIES])[category]
    price = np.round(median * _BAND_PRICE[band] * rng.lognormal(0.0, 0.2, n), 2)
    attract = (1.0 + rng.permutation(n)) ** -ZIPF_S * n**ZIPF_S / 50.0
    if p.scenario == "new_items":
        attract[launch >= onset] *= 1 + m
    fade = FADE_DAYS * rng.lognormal(0.0, 0.6, n)
    return ItemCatalog(category, brand, band, np.maximum(price, 1.0), launch, attract, fade)


def category_multipliers(p: SimulationParams, days: np.ndarray, gift_mix: np.ndarray) -> np.ndarray:
    """[len(days), N_CATS] weight of each category on each day: the gift season (``gift_mix`` per day)
    and, in ``trend_shift``, the hot category (``1 + 4 x magnitude`` from the onset)."""
    gift = np.array([c.gift for c in PRODUCT_CATEGORIES])
    mult = 1.0 + np.asarray(gift_mix, np.float64)[:, None] * (gift[None, :] - 1.0)
    if p.scenario == "trend_shift":
        hot = np.asarray(days) >= int(p.onset or 0)
        mult[hot, HOT_CATEGORY] *= 1 + 4 * float(p.magnitude or 0.0)
    return mult
