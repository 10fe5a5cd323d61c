"""The statistics core shared by train, monitor and loop: one interval type, one bootstrap engine
(block, paired and stratified draws over row weights) and one cost model. No I/O."""

from shopml.stats.bootstrap import (
    PairedDifference,
    bootstrap_interval,
    bootstrap_intervals,
    paired_difference,
)
from shopml.stats.costs import Costs
from shopml.stats.interval import Interval
from shopml.stats.resample import block_index, key_blocks, resample_weights, time_blocks

__all__ = [
    "Costs",
    "Interval",
    "PairedDifference",
    "block_index",
    "bootstrap_interval",
    "bootstrap_intervals",
    "key_blocks",
    "paired_difference",
    "resample_weights",
    "time_blocks",
]
