"""The registry of model kinds: one narrow interface that every step asks instead of assuming a shape.

A kind decides, for every model of that kind:

* **outputs** — the one ONNX output the server fetches (``served_output``), and the per-request outputs
  derived from it with their OIP v2 datatypes (:class:`OutputSpec`); a :class:`OutputHead`, compiled per
  served bundle (threshold, class names, item ids), encodes them as ``/v1`` and OIP v2 JSON and as
  prediction-log columns;
* **metrics** — the metric family over row weights ``[b, n]`` (one resample per row, the shape of
  :func:`shopml.stats.resample_weights`), so one bootstrap engine gives every kind its intervals, and the
  **primary metric** with its direction; the gate's **paired comparison** is the primary metric's
  difference on the same resampled rows;
* **output drift** — which drift test runs on which logged output (:class:`OutputDrift`);
* **labels** — the label's type, how a label value is checked, and what an unlabelled row means once its
  label has matured (binary: a negative — no chargeback came; other kinds: still unknown, dropped);
* **training** — the estimator factory (XGBoost objective), how the target column is encoded, and the
  output post-processing of the fitted estimator (the same arrays the ONNX graph serves).

Kinds register themselves by name (:func:`register`); :func:`get_kind` names the known ones on a typo.

>>> sorted(KINDS)
['binary', 'multiclass', 'ranking', 'regression']
>>> get_kind("multiclass").primary_metric
'macro_f1'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import orjson

from shopml.errors import ConfigError

if TYPE_CHECKING:
    from shopml.stats import Interval, PairedDifference

__all__ = [
    "KINDS",
    "OTHER_CATEGORY",
    "LabelSpec",
    "ModelKind",
    "OutputDrift",
    "OutputHead",
    "OutputSpec",
    "WeightedMetrics",
    "get_kind",
    "register",
    "v2_response",
]


def v2_response(
    model: str,
    version: int,
    rid: str,
    tensors: list[dict[str, Any]],
    parameters: dict[str, Any] | None = None,
) -> bytes:
    """An OIP v2 inference response body holding ``tensors`` (``{"name", "shape", "datatype", "data"}``)."""
    body: dict[str, Any] = {"model_name": model, "model_version": str(version), "id": rid}
    if parameters is not None:
        body["parameters"] = parameters
    body["outputs"] = tensors
    return orjson.dumps(body)


#: Metric family over row weights ``W`` of shape ``[b, n]`` → one array ``[b]`` per metric name.
WeightedMetrics = Callable[[np.ndarray], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class OutputSpec:
    """One output of a served model: its name, OIP v2 datatype and shape (``-1`` = rows, ``"C"`` etc.
    are given as -1 too: a per-model size such as the class count is known only from the bundle)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    description: str

    def to_dict(self) -> dict[str, Any]:
        """The OIP v2 model-metadata form ``{"name", "datatype", "shape"}``."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


#: In a categorical output's reference counts: every category the reference does not name (top categories
#: plus the rest); the monitor counts a current category the reference does not name as this one.
OTHER_CATEGORY = "__other__"


@dataclass(frozen=True)
class OutputDrift:
    """The output-drift check: drift test ``test`` (a :mod:`shopml.monitor.drift.registry` name) on the
    logged prediction-log column ``column``, read as ``reduce`` says (see
    :data:`shopml.monitor.drift.outputs.REDUCERS`: the value as logged, a list's last element, or whether
    a list holds anything), relevant from an effect of ``threshold`` (None: the test's or the monitor's
    floor)."""

    column: str
    test: str
    reduce: str = "value"
    threshold: float | None = None


@dataclass(frozen=True)
class LabelSpec:
    """How labels of a kind look, join and mature.

    Labels join on the request id (or a business key) like every kind's; ``missing_after_maturity`` is
    the label a row without one takes once its maturity has passed (``None``: the row stays unlabelled
    and is left out of realised metrics). ``null_means`` says what a stored label of null stands for in
    a kind that has such labels (a recommendation whose session ended has no next item): the row is
    *resolved without a label*, left out of both the realised metrics and the label maturity's count;
    ``None``: a null label is an error.
    """

    dtype: str  # "int8" | "string" | "float64"
    description: str
    missing_after_maturity: float | None = None
    null_means: str | None = None


class OutputHead(ABC):
    """A kind's outputs for one served bundle: derived from the served ONNX output, encoded as JSON."""

    #: Output names in their default order (OIP v2 answers these when a request names none).
    names: tuple[str, ...]
    #: The prediction log's columns for the kind's outputs beyond ``score``/``decision`` (log name →
    #: ``float64``, ``string``, ``list<float64>`` or ``list<string>``); none for a binary model. Names
    #: never clash with the log's own columns nor with the ``label`` that labels join as.
    log_types: ClassVar[dict[str, str]] = {}
    #: Log name → :meth:`columns` name where they differ (a multiclass ``label`` is ``predicted_label``).
    log_sources: ClassVar[dict[str, str]] = {}

    @abstractmethod
    def encode_v1(self, model: str, version: int, request_ids: list[str], out: np.ndarray) -> bytes:
        """The ``/v1`` answer: per instance the kind's outputs, model version and request id."""

    @abstractmethod
    def encode_v2(self, model: str, version: int, rid: str, out: np.ndarray, outputs: list[str]) -> bytes:
        """The OIP v2 inference response holding the requested ``outputs``."""

    @abstractmethod
    def columns(self, out: np.ndarray) -> dict[str, np.ndarray]:
        """Per output name, one value per row (what the prediction log records)."""

    def log_columns(self, out: np.ndarray) -> dict[str, np.ndarray]:
        """Per :attr:`log_types` column, one value per row (``[N, K]`` for a list column)."""
        if not self.log_types:
            return {}
        cols = self.columns(out)
        return {name: cols[self.log_sources.get(name, name)] for name in self.log_types}

    @abstractmethod
    def score(self, out: np.ndarray) -> np.ndarray:
        """One number per row for the prediction log's ``score`` column (binary: the score)."""

    def metadata(self) -> dict[str, Any]:
        """Kind-specific model metadata (OIP ``parameters``), e.g. the threshold or the class names."""
        return {}


class ModelKind(ABC):
    """Base of every model kind: subclasses set the class variables and implement the abstract methods."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: The ONNX graph output the server fetches (every other output derives from it).
    served_output: ClassVar[str]
    #: The prediction-log column the monitor measures a model from, when it is not ``served_output``
    #: (a ranking model logs its top-K ``items``, not a score for every catalogue item); see
    #: :meth:`logged_predictions`.
    logged_output: ClassVar[str | None] = None
    outputs: ClassVar[tuple[OutputSpec, ...]]
    metrics: ClassVar[tuple[str, ...]]
    primary_metric: ClassVar[str]
    #: Metrics where lower is better (every other metric: higher is better).
    lower_is_better: ClassVar[frozenset[str]]
    output_drift: ClassVar[tuple[OutputDrift, ...]]
    label: ClassVar[LabelSpec]
    #: How a served model of the kind reads its inputs (the serving codec's layout): ``rows`` of
    #: features; the ranking kind reads a browsing ``session``. A bundle's ``input_type`` (``image``,
    #: ``text``) overrides it.
    input_layout: ClassVar[str] = "rows"
    #: The binary kind calibrates scores and chooses a decision threshold; no other kind does.
    thresholded: ClassVar[bool] = False
    #: Whether labels are 0/1 with a rare positive class (binary): every period, holdout and bootstrap
    #: resample must hold positives, and a metric's support is their count (else: every labelled row).
    rare_class: ClassVar[bool] = False
    #: Whether performance can be estimated before labels arrive, from the outputs alone (calibrated
    #: binary scores: each unknown label is a draw of its score). Without it the monitor watches the
    #: output distribution (:attr:`output_drift`) until the labels mature.
    estimates_performance: ClassVar[bool] = False
    #: A logged column whose rows the monitor's bootstrap resamples together (a recommender's
    #: ``session_id``: one session's requests succeed or fail together); ``None`` or not logged: the
    #: time blocks of ``performance.block``.
    block_column: ClassVar[str | None] = None

    # --- outputs --------------------------------------------------------------------------------
    @abstractmethod
    def head(self, meta: Mapping[str, Any]) -> OutputHead:
        """The output head for a bundle's metadata (``bundle.json`` as a mapping)."""

    # --- metrics --------------------------------------------------------------------------------
    def direction(self, metric: str) -> int:
        """+1 when higher ``metric`` is better, -1 when lower is."""
        return -1 if metric in self.lower_is_better else 1

    @abstractmethod
    def weighted_metrics(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> WeightedMetrics:
        """The metric family of predictions ``pred`` against labels ``y``, as a function of row weights."""

    def weighted_primary(
        self, y: np.ndarray, pred: np.ndarray, **context: Any
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The primary metric alone, as a function of row weights (the gate compares this)."""
        family = self.weighted_metrics(y, pred, **context)
        return lambda w: family(w)[self.primary_metric]

    def point_metrics(
        self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None, **context: Any
    ) -> dict[str, float]:
        """Every metric of the family on the whole sample (rows count ``sample_weight`` times)."""
        n = len(y)
        w = np.ones((1, n)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[None, :]
        got = self.weighted_metrics(y, pred, **context)(w)
        return {k: float(np.asarray(got[k])[0]) for k in self.metrics}

    def primary_difference(
        self, y: np.ndarray, challenger: np.ndarray, champion: np.ndarray, weights: np.ndarray, **context: Any
    ) -> np.ndarray:
        """The gate's paired comparison: primary(challenger) − primary(champion) for each row of
        ``weights`` (resamples of the same rows), signed so that positive always means "challenger
        better" (a lower-is-better primary metric is negated)."""
        a = np.asarray(self.weighted_primary(y, challenger, **context)(weights), dtype=np.float64)
        b = np.asarray(self.weighted_primary(y, champion, **context)(weights), dtype=np.float64)
        sign = float(self.direction(self.primary_metric))
        out: np.ndarray = sign * (a - b)
        return out

    def intervals(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        *,
        n_resamples: int = 1000,
        level: float = 0.95,
        seed: int = 0,
        groups: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        **context: Any,
    ) -> dict[str, Interval]:
        """Every metric of the family with its bootstrap interval (``groups``: block resampling, e.g. by
        hour; see :func:`shopml.stats.bootstrap_intervals`)."""
        from shopml.stats import bootstrap_intervals

        got = bootstrap_intervals(
            self.weighted_metrics(y, pred, **context),
            len(y),
            n_resamples=n_resamples,
            level=level,
            seed=seed,
            groups=groups,
            sample_weight=sample_weight,
        )
        return {k: got[k] for k in self.metrics}

    def compare(
        self,
        y: np.ndarray,
        champion: np.ndarray,
        challenger: np.ndarray,
        *,
        n_resamples: int = 1000,
        level: float = 0.95,
        seed: int = 0,
        groups: np.ndarray | None = None,
        strata: np.ndarray | None = None,
        **context: Any,
    ) -> PairedDifference:
        """The gate's paired comparison on the same resampled rows, as "challenger better" scores: the
        primary metric, negated when lower is better, so ``diff > 0`` always means the challenger is
        better (``a`` = champion, ``b`` = challenger, see :func:`shopml.stats.paired_difference`)."""
        from shopml.stats import paired_difference

        sign = float(self.direction(self.primary_metric))
        champ = self.weighted_primary(y, champion, **context)
        chall = self.weighted_primary(y, challenger, **context)
        return paired_difference(
            lambda w: sign * np.asarray(champ(w), dtype=np.float64),
            lambda w: sign * np.asarray(chall(w), dtype=np.float64),
            len(y),
            n_resamples=n_resamples,
            level=level,
            seed=seed,
            groups=groups,
            strata=strata,
        )

    def logged_predictions(self, values: Sequence[Any], meta: Mapping[str, Any]) -> np.ndarray:
        """The predictions :meth:`weighted_metrics` takes, from the logged :attr:`logged_output` values
        (one per row); only a kind that sets ``logged_output`` is asked."""
        raise ConfigError(f"model kind '{self.name}' measures its logged '{self.served_output}' directly")

    def row_errors(
        self, y: np.ndarray, pred: np.ndarray, meta: Mapping[str, Any], **context: Any
    ) -> np.ndarray:
        """One error in [0, 1] per labelled row, for the stream detectors (0/1 where the kind's answer
        is simply right or wrong). ``meta``: ``bundle.json`` as a mapping."""
        raise ConfigError(f"model kind '{self.name}' defines no per-row error for the stream detectors")

    # --- labels ---------------------------------------------------------------------------------
    @abstractmethod
    def check_labels(
        self, values: Sequence[Any] | np.ndarray, meta: Mapping[str, Any], field: str = "label"
    ) -> np.ndarray:
        """Labels as the array the metrics take (class names become class indices, item ids item
        indices); :class:`~shopml.errors.DataError` names ``field``, the row and the bad value."""

    def target_meta(self, values: Sequence[Any] | np.ndarray, field: str = "target") -> dict[str, Any]:
        """What the bundle must record to read labels of this kind back (e.g. the class names)."""
        return {}

    def target(self, column: Any, field: str = "target") -> tuple[np.ndarray, dict[str, Any]]:
        """A training table's target column (Arrow) → (labels as the metrics take them, what the bundle
        records to read labels back). Errors name ``field`` and what was expected."""
        values = column.to_pylist()
        meta = self.target_meta(values, field)
        return self.check_labels(values, meta, field), meta

    def split_positives(self, y: np.ndarray) -> np.ndarray | None:
        """The 0/1 indicator of rare positives every time-split period must hold (None: no such class)."""
        return None

    def chance(self, y_train: np.ndarray, n: int) -> np.ndarray:
        """What a model without features predicts for ``n`` rows after seeing ``y_train`` (the zero of
        the fit diagnosis's skill scale)."""
        raise NotImplementedError(f"model kind '{self.name}' has no chance-level prediction")

    def skill(self, metric: str, value: float, chance: float) -> float:
        """``value`` rescaled so that chance level is 0 and perfect is 1 (perfect: 1 for higher-is-better
        metrics, 0 for lower-is-better ones)."""
        best = 0.0 if self.direction(metric) < 0 else 1.0
        span = best - chance
        return float((value - chance) / span) if span != 0 else 0.0

    # --- training -------------------------------------------------------------------------------
    @abstractmethod
    def make_estimator(self, params: Mapping[str, Any], seed: int, n_outputs: int) -> Any:
        """An unfitted scikit-learn-API XGBoost estimator for this kind (``n_outputs``: class count)."""

    @abstractmethod
    def predict(self, estimator: Any, X: Any) -> np.ndarray:
        """The served output of a fitted estimator (pipeline) on rows ``X``: what ONNX's
        ``served_output`` must match (the parity check compares the two)."""

    def finish_onnx(self, model: Any, meta: Mapping[str, Any]) -> None:
        """Rewrite a converted graph's outputs into this kind's served outputs (in place)."""
        raise ConfigError(f"model kind '{self.name}' has no ONNX export from a tabular estimator")


KINDS: dict[str, ModelKind] = {}


def register(cls: type[ModelKind]) -> type[ModelKind]:
    """Class decorator adding an instance of a kind to :data:`KINDS` under its ``name``."""
    KINDS[cls.name] = cls()
    return cls


def get_kind(name: str) -> ModelKind:
    """The kind called ``name``; :class:`ConfigError` names the known kinds."""
    kind = KINDS.get(name)
    if kind is None:
        raise ConfigError(f"unknown model kind '{name}' (known: {sorted(KINDS)})")
    return kind
