"""``simulate()``: the day loop that writes a whole world, its manifest and its drift log."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from shopml import __version__
from shopml.errors import DataError
from shopml.simulate.catalog import WEEKDAY_FACTOR, holiday_factor
from shopml.simulate.io import PartitionWriter
from shopml.simulate.manifest import manifest
from shopml.simulate.orders import OrderStream
from shopml.simulate.params import SimulationParams
from shopml.simulate.scenarios import _iso, day_effects, drift_log
from shopml.simulate.sessions import SessionStream, session_drift_events, session_manifest
from shopml.simulate.texts import TextStream, text_drift_events
from shopml.simulate.transactions import TransactionStream
from shopml.simulate.world import ActiveWeights, Population, build_population

__all__ = ["SimulationResult", "population", "simulate"]

TEXT_ONLY = ("language_mix", "new_slang")  # scenarios that change texts only (an error without texts)
_STREAMS = {"world": 0, "txn": 1, "orders": 2, "warmup": 3}


@dataclass
class SimulationResult:
    """What a run wrote, with the headline figures."""

    out_dir: Path
    params: SimulationParams
    rows: dict[str, int]
    fraud: int
    fraud_patterns: dict[str, int]
    high_value_returns: int
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def fraud_rate(self) -> float:
        """Share of transactions that are fraud."""
        return self.fraud / max(self.rows["transactions"], 1)

    @property
    def return_rate(self) -> float:
        """Share of orders that are high-value returns."""
        return self.high_value_returns / max(self.rows["orders"], 1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "out_dir": str(self.out_dir),
            "scenario": self.params.scenario,
            "rows": self.rows,
            "fraud_rate": self.fraud_rate,
            "fraud_patterns": self.fraud_patterns,
            "high_value_return_rate": self.return_rate,
            "seconds": self.seconds,
        }


def _rng(seed: int, stream: str, day: int = 0) -> np.random.Generator:
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(_STREAMS[stream], day + 1000))
    return np.random.Generator(np.random.PCG64(ss))


def population(p: SimulationParams) -> Population:
    """The customer population of a run with parameters ``p`` (the same draw :func:`simulate` makes)."""
    return build_population(p, _rng(p.seed, "world"))


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DataError(f"output {out} exists and is not a folder")
    for sub in (
        "transactions",
        "orders",
        "labels",
        "sessions",
        "items",
        "texts",
    ):  # a re-run replaces the old world
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)


def simulate(
    out_dir: str | Path,
    *,
    progress: bool = False,
    console: Console | None = None,
    parameters: SimulationParams | None = None,
    images: int = 0,
    texts: int = 0,
    **params: Any,
) -> SimulationResult:
    """Simulate a world into ``out_dir`` (see :class:`SimulationParams` for ``params``: ``days``,
    ``seed``, ``scenario``, ``customers``, ``start``, ``onset``, ``length``, ``magnitude``, ...).

    ``parameters`` may pass a ready :class:`SimulationParams` instead. Same seed and parameters give
    byte-identical files. A world already in ``out_dir`` is replaced (its ``transactions``, ``orders``
    and ``labels`` folders are removed first). ``images``: also write that many product photos per
    category under ``images/`` (:mod:`shopml.simulate.images`); ``texts``: also write that many product
    listings, reviews and search queries per day under ``texts/`` (:mod:`shopml.simulate.texts`). Raises
    ConfigError on invalid parameters.
    """
    p = parameters.resolved() if parameters is not None else SimulationParams.build(**params)
    out = Path(out_dir)
    _prepare(out)
    began = time.perf_counter()
    pop = population(p)
    writer = PartitionWriter()
    txns = TransactionStream(p, pop, out, _rng(p.seed, "world", 1), writer)
    orders = OrderStream(p, pop, out, _rng(p.seed, "world", 2), writer)
    sessions = SessionStream(p, pop, out, writer) if p.session_rate > 0 else None
    text_stream = TextStream(p, out, writer, texts) if texts or p.scenario in TEXT_ONLY else None
    bar = Progress(
        TextColumn("[bold]simulating[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not progress,
        transient=False,
    )
    with bar:
        task = bar.add_task(p.scenario, total=p.warmup_days + p.days, rows=0)
        weights = ActiveWeights(pop, -p.warmup_days)
        for day in range(-p.warmup_days, p.days):
            d = p.start + timedelta(days=day)
            eff = day_effects(p, max(day, 0)) if day >= 0 else day_effects(p, -1)
            hv, ha = holiday_factor(d)
            cumw = np.cumsum(weights.at(day))
            volume = float(cumw[-1]) * WEEKDAY_FACTOR[d.weekday()] * hv * eff.volume
            if day < 0:
                txns.warmup(_rng(p.seed, "warmup", day), day, cumw, volume * p.txn_rate)
            else:
                txns.day(_rng(p.seed, "txn", day), day, cumw, volume * p.txn_rate, eff, ha * eff.amount)
                orders.day(
                    _rng(p.seed, "orders", day), day, cumw, volume * p.order_rate, eff, ha * eff.amount
                )
                if sessions is not None:
                    sessions.day(day, cumw, volume, eff.gift_mix)
                if text_stream is not None:
                    text_stream.day(day)
            bar.update(task, advance=1, rows=txns.rows_ + orders.rows_, description=f"{p.scenario} {d}")
    if sessions is not None:
        sessions.close()
    txns.labels.flush()
    orders.labels.flush()
    writer.close()
    log = drift_log(p)
    end = None if p.length is None else _iso(p, min((p.onset or 0) + p.length, p.days))
    log["events"] += session_drift_events(p, _iso(p, p.onset or 0), end)
    if text_stream is not None:
        log["events"] += text_drift_events(p, _iso(p, p.onset or 0), end)
    (out / "drift_log.json").write_text(json.dumps(log, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    rows = {
        "transactions": txns.rows_,
        "orders": orders.rows_,
        "labels/fraud": txns.labels.rows_,
        "labels/returns": orders.labels.rows_,
    }
    partitions = {
        "transactions": txns.partitions_,
        "orders": orders.partitions_,
        "labels/fraud": sorted(txns.labels.partitions_),
        "labels/returns": sorted(orders.labels.partitions_),
    }
    man = manifest(p, rows, partitions, __version__)
    if sessions is not None:
        rows |= {"sessions": sessions.rows_, "items": sessions.items_}
        man["tables"] |= session_manifest(sessions.rows_, sessions.items_, sessions.partitions_)
    if text_stream is not None:
        rows |= {f"texts/{k}": n for k, n in text_stream.rows_.items()}
        man["tables"] |= text_stream.manifest()
    if images:
        from shopml.simulate.images import write_images

        rows["images"] = write_images(out / "images", per_class=images, seed=p.seed)["train"]
    (out / "manifest.json").write_text(json.dumps(man, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return SimulationResult(
        out_dir=out,
        params=p,
        rows=rows,
        fraud=txns.fraud_,
        fraud_patterns=dict(txns.patterns_),
        high_value_returns=orders.returns_hv_,
        seconds=time.perf_counter() - began,
        files={"manifest": out / "manifest.json", "drift_log": out / "drift_log.json"},
    )
