"""The transactions table: one day of legit and fraudulent payments, history features, delayed labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from shopml.simulate.catalog import (
    CURRENCIES,
    DEVICES,
    IP_COUNTRIES,
    MERCHANT_CATEGORIES,
    NEW_CATEGORY,
    PAYMENT_METHODS,
)
from shopml.simulate.fastops import stable_argsort
from shopml.simulate.fraud import PATTERNS, SHARES, account_takeover, card_testing, friendly_fraud
from shopml.simulate.history import DAY_MS, NEVER, TxnHistory
from shopml.simulate.io import PartitionWriter, categorical, epoch_us, fixed_ids, nullable_float, timestamps
from shopml.simulate.labels import DAY_US, LabelFeed, chargeback_delay_days
from shopml.simulate.legit import Batch, concat, legit_day, take
from shopml.simulate.params import SimulationParams
from shopml.simulate.scenarios import DayEffects
from shopml.simulate.stream import DayStream
from shopml.simulate.world import ALL_MARKETS, Population

__all__ = ["TRANSACTION_SCHEMA", "TransactionStream"]

_MARKET_CURRENCY = np.array([CURRENCIES.index(m.currency) for m in ALL_MARKETS])
_MARKET_TZ = np.array([m.tz for m in ALL_MARKETS])
_MERCHANT_NAMES = tuple(c.name for c in (*MERCHANT_CATEGORIES, NEW_CATEGORY))

TRANSACTION_SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("customer_id", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("country", pa.string()),
        ("ip_country", pa.string()),
        ("merchant_category", pa.string()),
        ("payment_method", pa.string()),
        ("device_type", pa.string()),
        ("is_new_device", pa.bool_()),
        ("account_age_days", pa.float64()),
        ("hour", pa.int64()),
        ("day_of_week", pa.int64()),
        ("txn_count_24h", pa.int64()),
        ("amount_avg_30d", pa.float64()),
        ("seconds_since_last_txn", pa.float64()),
        ("is_fraud", pa.int8()),
        ("fraud_pattern", pa.string()),
        ("label_available_at", pa.timestamp("us", tz="UTC")),
    ]
)


class TransactionStream(DayStream):
    """Generates and writes the transactions table day by day, carrying history and label state."""

    def __init__(
        self,
        p: SimulationParams,
        pop: Population,
        out_dir: Path,
        rng: np.random.Generator,
        writer: PartitionWriter,
    ) -> None:
        labels = LabelFeed(out_dir / "labels" / "fraud", p.start, "transaction_id", "tx", "is_fraud", writer)
        super().__init__(p, pop, writer, out_dir / "transactions", labels)
        self.offset_days = p.warmup_days + 31  # history keys count ms from this many days before start
        self.history = TxnHistory()
        # each existing customer's last purchase before the warm-up (exponential gap back in time)
        rate = np.maximum(p.txn_rate * pop.activity, 1e-6)
        gap_ms = rng.exponential(1.0, pop.n) / rate * DAY_MS
        last = (31 * DAY_MS - gap_ms).astype(np.int64)
        existed = pop.signup_day < -p.warmup_days
        self.history.seed_last(np.where(existed, last, NEVER))
        self.next_guest = pop.n
        self.fraud_ = 0
        self.patterns_: dict[str, int] = dict.fromkeys(PATTERNS[1:], 0)

    def _abs_ms(self, day: int, t_ms: np.ndarray) -> np.ndarray:
        return t_ms + (day + self.offset_days) * DAY_MS

    def warmup(self, rng: np.random.Generator, day: int, cumw: np.ndarray, expected: float) -> None:
        """A day before ``start``: only feeds the purchase history (nothing is written). Warm-up days
        go straight into the history."""
        b = legit_day(rng, self.pop, cumw, int(rng.poisson(expected)), day, DayEffects(), 1.0, light=True)
        self.history.add(b["cust"], self._abs_ms(day, b["t_ms"]), b["amount"], features=False)

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
        p = self.p
        legit = legit_day(rng, self.pop, cumw, int(rng.poisson(expected)), day, eff, amount_mult)
        fraud_total = p.fraud_rate * len(legit["cust"])
        share, size = SHARES["card_testing"]
        n_bursts = int(rng.poisson(fraud_total * share / size))
        ct = card_testing(rng, n_bursts, self.next_guest)
        self.next_guest += n_bursts
        share, size = SHARES["account_takeover"]
        n_ato = int(rng.poisson(fraud_total * share / size))
        ato = account_takeover(rng, self.pop, cumw, n_ato, day, eff.new_tactic_share, amount_mult)
        friendly_fraud(rng, legit, fraud_total * SHARES["friendly_fraud"][0])
        b = concat([legit, ct, ato])
        b = take(b, stable_argsort(b["t_ms"]))
        n24, avg30, since = self.history.add(b["cust"], self._abs_ms(day, b["t_ms"]), b["amount"])
        build = self._table(rng, day, b, n24, avg30, since, eff)
        self._write_day(day, build)
        return len(b["cust"])

    def _table(
        self,
        rng: np.random.Generator,
        day: int,
        b: Batch,
        n24: np.ndarray,
        avg30: np.ndarray,
        since: np.ndarray,
        eff: DayEffects,
    ) -> Callable[[], pa.Table]:
        """Draw the labels and pipeline faults of a day now; return a function building its table."""
        n = len(b["cust"])
        ordinals = self._ordinals(n)
        event_us = epoch_us(self.p.start + timedelta(days=day)) + b["t_ms"] * 1000
        pattern = b["pattern"]
        is_fraud = (pattern > 0).astype(np.int8)
        label_us = event_us + self.p.maturity_days * DAY_US
        fraud = np.flatnonzero(is_fraud)
        delay = chargeback_delay_days(rng, pattern[fraud], PATTERNS, self.p.chargeback_median_days)
        label_us[fraud] = event_us[fraud] + (delay * DAY_US).astype(np.int64)
        self.labels.add(ordinals, is_fraud, label_us)
        amount = b["amount"]
        if eff.dq_unit_share > 0:  # pipeline bug: cents instead of currency units
            amount = np.where(rng.random(n) < eff.dq_unit_share, np.round(amount * 100.0), amount)
        age_null = rng.random(n) < eff.dq_null_share if eff.dq_null_share > 0 else None
        local_s = np.mod(b["t_ms"] // 1000 + _MARKET_TZ[b["market"]] * 3600, 86_400)
        self.rows_ += n
        self.fraud_ += int(is_fraud.sum())
        for i, name in enumerate(PATTERNS[1:], start=1):
            self.patterns_[name] += int((pattern == i).sum())
        weekday = (self.p.start + timedelta(days=day)).weekday()
        return lambda: pa.Table.from_arrays(
            [
                fixed_ids("tx", ordinals, 10),
                fixed_ids("c", b["cust"], 9),
                timestamps(event_us),
                pa.array(amount, pa.float64()),
                categorical(CURRENCIES, _MARKET_CURRENCY[b["market"]]),
                categorical([m.code for m in ALL_MARKETS], b["market"]),
                categorical(IP_COUNTRIES, b["ip"]),
                categorical(_MERCHANT_NAMES, b["merchant"]),
                categorical(PAYMENT_METHODS, b["payment"]),
                categorical(DEVICES, b["device"]),
                pa.array(b["new_device"].astype(bool), pa.bool_()),
                nullable_float(np.round(b["age"], 3), age_null),
                pa.array(local_s // 3600, pa.int64()),
                pa.array(np.full(n, weekday), pa.int64()),
                pa.array(n24, pa.int64()),
                nullable_float(np.round(avg30, 2)),
                nullable_float(since),
                pa.array(is_fraud, pa.int8()),
                categorical(PATTERNS, pattern),
                timestamps(label_us),
            ],
            schema=TRANSACTION_SCHEMA,
        )
