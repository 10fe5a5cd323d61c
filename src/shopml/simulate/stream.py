"""What the day-by-day table streams (transactions, orders) share: row ordinals, the label feed and
writing a day's partition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from shopml.simulate.io import PartitionWriter
from shopml.simulate.labels import LabelFeed
from shopml.simulate.params import SimulationParams
from shopml.simulate.world import Population

__all__ = ["DayStream"]


class DayStream:
    """Base of a table generated day by day into ``root``, with its delayed labels in ``labels``."""

    def __init__(
        self, p: SimulationParams, pop: Population, writer: PartitionWriter, root: Path, labels: LabelFeed
    ) -> None:
        self.p, self.pop, self.writer = p, pop, writer
        self.root = root
        self.labels = labels
        self.next_ordinal = 0
        self.rows_ = 0
        self.partitions_: list[str] = []

    def _ordinals(self, n: int) -> np.ndarray:
        """The ordinals (row ids) of the next ``n`` rows."""
        ordinals = np.arange(self.next_ordinal, self.next_ordinal + n, dtype=np.int64)
        self.next_ordinal += n
        return ordinals

    def _write_day(self, day: int, build: Callable[[], pa.Table]) -> None:
        """Queue day ``day``'s partition (built on a writer thread) and write the labels known by then."""
        date = self.p.start + timedelta(days=day)
        self.writer.submit(self.root, date, build)
        self.partitions_.append(date.isoformat())
        self.labels.flush(through_day=day + 1)
