"""How the monitor reads and measures a model of one kind (:mod:`shopml.kinds`): which logged columns,
labels as the kind's metrics take them, the realised metric family with intervals, the per-row error
of the stream detectors, and the metric that alerts.

* **Outputs**: the kind's served output as logged (a binary model's ``score`` with its ``decision``, a
  multiclass model's ``probabilities`` [n, C], a regression model's ``value``).
* **Realised metrics**: a kind that estimates performance before labels (binary: calibrated scores) is
  measured by the score engine that CBPE shares (``windows.realised_performance``: PR-AUC, precision,
  recall, F1 and expected cost at the logged decisions), so realised and estimated figures have one
  definition; every other kind by its own metric family
  (:func:`~shopml.monitor.performance.family.family_intervals`). Both on the same hour-block draws.
* **Support**: what a window's metric rests on, and what ``min_positives`` counts: the positives of a
  kind with a rare class (a pool also needs a negative), every labelled row otherwise.
* **Alert metric**: the settings' ``alert_metric`` when the kind reports it, else the kind's primary
  metric (macro-F1, MAE), with the kind's direction (MAE: lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.config.settings import PerformanceSettings
from shopml.kinds import ModelKind, get_kind
from shopml.logstore import AVAILABLE_AT
from shopml.monitor.performance.family import family_intervals
from shopml.registry import ModelBundle
from shopml.stats import Costs, Interval, key_blocks, time_blocks

__all__ = ["BINARY", "Measure"]


@dataclass(frozen=True)
class Measure:
    """The monitor's view of one bundle's kind (see the module docstring)."""

    kind: ModelKind
    meta: dict[str, Any]
    metric: str
    costs: Costs = field(default_factory=Costs)  # expected cost of a thresholded kind

    @classmethod
    def of(cls, bundle: ModelBundle, alert_metric: str, costs: Costs | None = None) -> Measure:
        """The measure of ``bundle``'s kind, alerting on ``alert_metric`` when the kind reports it;
        ``costs``: what ``expected_cost`` is priced in (the bundle's, see ``monitored_costs``)."""
        kind = get_kind(bundle.meta.kind)
        metric = alert_metric if alert_metric in kind.metrics else kind.primary_metric
        return cls(kind, bundle.meta.model_dump(by_alias=True), metric, costs or Costs())

    @property
    def columns(self) -> list[str]:
        """Logged columns performance reads: the served output (and the decision of a thresholded kind);
        a ranking model's logged top-K ``items`` (its kind's ``logged_output``)."""
        output = self.kind.logged_output or self.kind.served_output
        return [output, *(["decision"] if self.kind.thresholded else [])]

    def logged_columns(self, available: list[str]) -> list[str]:
        """:attr:`columns` plus the kind's ``block_column`` when the log (``available``) has it."""
        block = self.kind.block_column
        return [*self.columns, *([block] if block and block in available else [])]

    def labellable(self, table: pa.Table) -> pa.Table:
        """A joined window without its rows resolved without a label (a null label that has arrived,
        where the kind's labels have such: :attr:`shopml.kinds.LabelSpec.null_means`)."""
        if self.kind.label.null_means is None or not table.num_rows:
            return table
        empty = pc.and_(pc.is_null(table.column("label")), pc.is_valid(table.column(AVAILABLE_AT)))
        return table.filter(pc.invert(empty))

    @property
    def lower_is_better(self) -> bool:
        """Whether the alert metric is an error (an alert is then a rise)."""
        return self.kind.direction(self.metric) < 0

    def outputs(self, table: pa.Table) -> np.ndarray:
        """The served output per row: ``[n]``, or ``[n, C]`` for a list column (class probabilities);
        a ranking model's logged top-K as catalogue indices ``[n, K]`` (``ModelKind.logged_predictions``)."""
        logged = self.kind.logged_output
        if logged is not None:
            return np.asarray(self.kind.logged_predictions(table.column(logged).to_pylist(), self.meta))
        col = table.column(self.kind.served_output)
        if (
            pa.types.is_list(col.type)
            or pa.types.is_fixed_size_list(col.type)
            or pa.types.is_large_list(col.type)
        ):
            flat = pc.list_flatten(col).to_numpy(zero_copy_only=False).astype(np.float64)
            return flat.reshape(table.num_rows, -1) if table.num_rows else flat.reshape(0, 0)
        return col.to_numpy(zero_copy_only=False).astype(np.float64)

    def blocks(self, table: pa.Table, seconds: float) -> np.ndarray:
        """The bootstrap block of each row of a joined window: its key in the kind's ``block_column``
        where the table has it (a session), else (and for rows without one) its ``seconds``-long time
        block."""
        blocks = time_blocks(table.column("__time").to_numpy(), seconds)
        column = self.kind.block_column
        if column and column in table.column_names:
            blocks = key_blocks(table.column(column).to_pylist(), blocks)
        return blocks

    def decisions(self, table: pa.Table) -> np.ndarray:
        """The logged decision of a thresholded kind (float 0/1); zeros otherwise."""
        if not self.kind.thresholded:
            return np.zeros(table.num_rows)
        return table.column("decision").to_numpy(zero_copy_only=False).astype(np.float64)

    def labels(self, table: pa.Table) -> np.ndarray:
        """The joined ``label`` column as the kind's metrics take it, float64 with NaN where unknown (a
        multiclass model's class names become its class indices)."""
        col = table.column("label")
        if self.kind.label.dtype != "string":
            return col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        out = np.full(table.num_rows, np.nan)
        known = np.flatnonzero(col.is_valid().to_numpy(zero_copy_only=False))
        if known.size:
            values = col.take(pa.array(known)).to_pylist()
            out[known] = self.kind.check_labels(values, self.meta, field="label").astype(np.float64)
        return out

    def support(self, labels: np.ndarray) -> int:
        """Positives (a rare-class kind) or labelled rows among ``labels`` (NaN = unknown)."""
        if self.kind.rare_class:
            return int(np.nansum(labels))
        return int((~np.isnan(labels)).sum())

    def realised(
        self,
        pred: np.ndarray,
        decisions: np.ndarray,
        labels: np.ndarray,
        cfg: PerformanceSettings,
        rng: np.random.Generator,
        weights: np.ndarray | None = None,
        blocks: np.ndarray | None = None,
        miss_costs: np.ndarray | None = None,
    ) -> dict[str, Interval]:
        """The realised metric family of labelled rows with block-bootstrap intervals (``miss_costs``:
        each row's cost if missed, for a thresholded kind's expected cost)."""
        if self.kind.estimates_performance:
            from shopml.monitor.performance.windows import realised_performance

            return realised_performance(
                pred,
                decisions,
                labels,
                costs=self.costs,
                miss_costs=miss_costs,
                n_resamples=cfg.n_resamples,
                level=cfg.level,
                rng=rng,
                weights=weights,
                blocks=blocks,
            )
        return family_intervals(
            self.kind,
            labels,
            pred,
            n_resamples=cfg.n_resamples,
            level=cfg.level,
            rng=rng,
            weights=weights,
            blocks=blocks,
        )

    def errors(self, labels: np.ndarray, pred: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        """The stream detectors' error per labelled row (in [0, 1]; 0/1 for classifications)."""
        context = {"decision": decisions} if self.kind.thresholded else {}
        return np.asarray(self.kind.row_errors(labels, pred, self.meta, **context), dtype=np.float64)


#: The binary kind's measure without a bundle (the default of the window functions).
BINARY = Measure(get_kind("binary"), {"threshold": 0.5}, "pr_auc")
