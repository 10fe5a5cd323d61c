"""The orders table: product orders whose high-value returns are driven by category, price, the
customer's history (observed: past return rate; latent: propensity), size/fit and bracketing.

``customer_return_rate`` only counts returns already known before the order's day, and
``customer_order_count`` only earlier orders: both are causal.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from shopml.simulate.catalog import NEW_CATEGORY, PAYMENT_METHODS, PRODUCT_CATEGORIES
from shopml.simulate.fastops import inverse_cdf, sorted_uniforms, stable_argsort
from shopml.simulate.io import PartitionWriter, categorical, epoch_us, fixed_ids, nullable_float, timestamps
from shopml.simulate.labels import DAY_US, LabelFeed, return_delay_days
from shopml.simulate.legit import local_times_ms
from shopml.simulate.params import SimulationParams
from shopml.simulate.scenarios import DayEffects
from shopml.simulate.stream import DayStream
from shopml.simulate.world import ALL_MARKETS, Population

__all__ = ["HIGH_VALUE_EUR", "ORDER_SCHEMA", "OrderStream"]

HIGH_VALUE_EUR = 150.0
CHANNELS = ("web", "app", "marketplace")
_CATS = (*PRODUCT_CATEGORIES, NEW_CATEGORY)
_NAMES = tuple(c.name for c in _CATS)
_LOG_MEDIAN = np.log([c.median for c in _CATS])
_SIGMA = np.array([c.sigma for c in _CATS])
_RETURN_EFFECT = np.array([1.0, 0.9, -0.3, -0.6, -1.2, -0.8, -0.2, -1.8, 0.2, -0.5, -1.0])
_FASHION = np.array([n in ("clothing", "shoes") for n in _NAMES])
_KLARNA = PAYMENT_METHODS.index("klarna")

ORDER_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("customer_id", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("category", pa.string()),
        ("price", pa.float64()),
        ("quantity", pa.int64()),
        ("discount", pa.float64()),
        ("size_fit_score", pa.float64()),
        ("customer_return_rate", pa.float64()),
        ("customer_order_count", pa.int64()),
        ("shipping_country", pa.string()),
        ("channel", pa.string()),
        ("payment_method", pa.string()),
        ("is_high_value_return", pa.int8()),
        ("label_available_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class OrderStream(DayStream):
    """Generates and writes the orders table day by day, carrying per-customer order/return counts."""

    def __init__(
        self,
        p: SimulationParams,
        pop: Population,
        out_dir: Path,
        rng: np.random.Generator,
        writer: PartitionWriter,
    ) -> None:
        labels = LabelFeed(
            out_dir / "labels" / "returns", p.start, "order_id", "o", "is_high_value_return", writer
        )
        super().__init__(p, pop, writer, out_dir / "orders", labels)
        self.intercept_ = self._calibrate(rng)
        # history before the start: orders over the account's life, returns at the customer's rate
        life = np.maximum(-pop.signup_day, 0.0)
        self.orders_ = rng.poisson(p.order_rate * pop.activity * life).astype(np.int64)
        p_any = _sigmoid(self.intercept_ + 0.6 + pop.return_propensity)
        self.returns_ = rng.binomial(self.orders_, p_any).astype(np.int64)
        self.pending_: dict[int, list[np.ndarray]] = defaultdict(list)
        self.returns_hv_ = 0

    def _draw(self, rng: np.random.Generator, cust: np.ndarray, eff: DayEffects, amount_mult: float) -> dict:
        n = len(cust)
        w = np.array([c.weight * (1 + eff.gift_mix * (c.gift - 1)) for c in PRODUCT_CATEGORIES])
        w = np.append(w / w.sum() * (1 - eff.new_category_share), eff.new_category_share)
        cat = inverse_cdf(np.cumsum(w) / w.sum(), rng.random(n))
        fav = (rng.random(n) < 0.3) & (cat < len(PRODUCT_CATEGORIES))
        cat[fav] = self.pop.fav_product[cust[fav]]
        price = np.exp(_LOG_MEDIAN[cat] + _SIGMA[cat] * rng.standard_normal(n)) * amount_mult
        price = np.round(price * np.sqrt(self.pop.spend[cust]), 2)
        quantity = 1 + rng.poisson(0.25, n) + (_FASHION[cat] & (rng.random(n) < 0.12))
        discount = np.where(rng.random(n) < 0.35 + 0.3 * eff.gift_mix, rng.beta(2, 6, n) * 0.6, 0.0)
        fit_logit = 1.2 + 0.8 * self.pop.size_consistency[cust] + rng.normal(0, 1.0, n)
        fit = np.where(_FASHION[cat], np.round(_sigmoid(fit_logit), 3), np.nan)
        payment = self.pop.payment[cust]
        channel = rng.choice(len(CHANNELS), size=n, p=[0.45, 0.4, 0.15])
        return {
            "cat": cat,
            "price": np.maximum(price, 1.0),
            "quantity": quantity,
            "discount": np.round(discount, 2),
            "fit": fit,
            "payment": payment,
            "channel": channel,
        }

    def _logit(self, cust: np.ndarray, d: dict) -> tuple[np.ndarray, np.ndarray]:
        """Return logit without intercept, and whether the order is high-value."""
        cat = d["cat"]
        fashion = _FASHION[cat]
        x = (
            _RETURN_EFFECT[cat]
            + 0.5 * (np.log(d["price"]) - _LOG_MEDIAN[cat])
            + self.pop.return_propensity[cust]
        )
        x = x + np.where(fashion, -2.0 * (np.nan_to_num(d["fit"], nan=0.7) - 0.7), 0.0)
        x = x + 0.9 * (fashion & (d["quantity"] >= 2)) + 0.4 * (d["payment"] == _KLARNA) + 0.8 * d["discount"]
        x = x + 0.2 * (d["channel"] == 2)
        value = d["price"] * d["quantity"] * (1 - d["discount"])
        return x, value >= HIGH_VALUE_EUR

    def _calibrate(self, rng: np.random.Generator) -> float:
        """Intercept that makes the expected high-value return rate ``return_rate`` on the base mix."""
        cust = rng.integers(0, self.pop.n, 40_000)
        x, hv = self._logit(cust, self._draw(rng, cust, DayEffects(), 1.0))
        lo, hi = -15.0, 10.0
        for _ in range(60):
            mid = (lo + hi) / 2
            rate = float(np.mean(_sigmoid(mid + x) * hv))
            lo, hi = (mid, hi) if rate < self.p.return_rate else (lo, mid)
        return (lo + hi) / 2

    def day(
        self,
        rng: np.random.Generator,
        day: int,
        cumw: np.ndarray,
        expected: float,
        eff: DayEffects,
        amount_mult: float,
    ) -> int:
        """Generate, write and label day ``day``; returns its number of rows."""
        for arrived in sorted(k for k in self.pending_ if k < day):  # returns known before today
            for cust in self.pending_.pop(arrived):
                np.add.at(self.returns_, cust, 1)
        n = int(rng.poisson(expected))
        cust = np.searchsorted(cumw, sorted_uniforms(rng, n) * cumw[-1], "right").astype(np.int64)
        t_ms = local_times_ms(rng, self.pop.tz[cust])
        by_time = stable_argsort(t_ms)
        cust, t_ms = cust[by_time], t_ms[by_time]
        d = self._draw(rng, cust, eff, amount_mult)
        x, hv = self._logit(cust, d)
        returned = rng.random(n) < _sigmoid(self.intercept_ + x)
        label = (returned & hv).astype(np.int8)
        # causal history: earlier orders (today's earlier ones too) and returns known before today
        order = stable_argsort(cust)  # rows are in time order: by customer, then time
        first = np.r_[True, cust[order][1:] != cust[order][:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n) - group_start
        count = self.orders_[cust] + rank
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(
                self.orders_[cust] > 0, self.returns_[cust] / np.maximum(self.orders_[cust], 1), np.nan
            )
        np.add.at(self.orders_, cust, 1)
        event_us = epoch_us(self.p.start + timedelta(days=day)) + t_ms * 1000
        delay = return_delay_days(rng, n, self.p.return_window_days)
        return_us = event_us + (delay * DAY_US).astype(np.int64)
        arrive = (return_us - epoch_us(self.p.start)) // DAY_US  # day index the return is known
        for k in np.unique(arrive[returned]):
            self.pending_[int(k)].append(cust[returned & (arrive == k)])
        label_us = np.where(label == 1, return_us, event_us + self.p.return_window_days * DAY_US)
        ordinals = self._ordinals(n)
        self.labels.add(ordinals, label, label_us)
        ship = self.pop.market[cust].copy()
        gift = rng.random(n) < 0.03
        ship[gift] = rng.integers(0, len(ALL_MARKETS) - 1, int(gift.sum()))

        def build() -> pa.Table:  # runs on a writer thread
            return pa.Table.from_arrays(
                [
                    fixed_ids("o", ordinals, 10),
                    fixed_ids("c", cust, 9),
                    timestamps(event_us),
                    categorical(_NAMES, d["cat"]),
                    pa.array(d["price"], pa.float64()),
                    pa.array(d["quantity"].astype(np.int64), pa.int64()),
                    pa.array(d["discount"], pa.float64()),
                    nullable_float(d["fit"]),
                    nullable_float(np.round(rate, 4)),
                    pa.array(count, pa.int64()),
                    categorical([m.code for m in ALL_MARKETS], ship),
                    categorical(CHANNELS, d["channel"]),
                    categorical(PAYMENT_METHODS, d["payment"]),
                    pa.array(label, pa.int8()),
                    timestamps(label_us),
                ],
                schema=ORDER_SCHEMA,
            )

        self._write_day(day, build)
        self.rows_ += n
        self.returns_hv_ += int(label.sum())
        return n
