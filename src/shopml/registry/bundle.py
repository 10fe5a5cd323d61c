"""The model bundle: the folder a training run produces and the registry stores and serves.

Layout (the contract between ``train``, ``registry``, ``serve`` and ``monitor``)::

    bundle.json            BundleMeta below: name, task, kind, schema, inputs, threshold, metrics, lineage
    model.onnx             the serving path: one input per model feature, named like the feature,
                           shape [N, 1]; float32 for numeric/boolean, string for categorical;
                           outputs by the bundle's ``kind`` (``shopml.kinds``; the server fetches the
                           first one listed):
                             binary      ``score`` [N] or [N, 1] FP32 = calibrated P(positive)
                             multiclass  ``probabilities`` [N, C] FP32 (columns in ``classes`` order),
                                         ``label`` [N] string (the arg-max class name)
                             regression  ``value`` [N] FP32
                             ranking     ``scores`` [N, I] FP32 (one per item of ``items``)
    reference_profile.json what monitoring compares production against (``shopml.monitor`` format)
    pipeline.joblib        the fitted Python pipeline (training side only; never loaded by the server)
    report.html            the training report (optional)

The server reads only ``bundle.json`` and ``model.onnx``: no pickle on the serving path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shopml.errors import DataError, NotFoundError
from shopml.schema import FeatureKind, Schema
from shopml.stats import Costs

__all__ = [
    "BUNDLE_FILE",
    "ONNX_FILE",
    "PIPELINE_FILE",
    "PROFILE_FILE",
    "BundleMeta",
    "ModelBundle",
    "write_bundle",
]

BUNDLE_FILE = "bundle.json"
ONNX_FILE = "model.onnx"
PROFILE_FILE = "reference_profile.json"
PIPELINE_FILE = "pipeline.joblib"
REPORT_FILE = "report.html"
FORMAT_VERSION = 1


class BundleMeta(BaseModel):
    """What ``bundle.json`` holds."""

    model_config = ConfigDict(extra="allow")

    format_version: int = FORMAT_VERSION
    name: str
    task: str
    kind: str = "binary"  # a shopml.kinds name; bundles written before kinds existed are binary
    input_type: str | None = None  # the serving input layout (image, text); None: the kind's own
    schema_: dict[str, Any] = Field(alias="schema")
    inputs: list[str]
    score_output: str = "score"
    threshold: float = Field(0.5, ge=0.0, le=1.0)  # the binary kind's decision threshold
    objective: str = "max_f1"
    id_column: str | None = None
    time_column: str | None = None
    target: str | None = None
    costs: Costs | None = None  # the cost model the threshold was chosen on (None: bundles before it)
    metrics: dict[str, Any] = Field(default_factory=dict)
    lineage: dict[str, Any] = Field(default_factory=dict)
    created_at: str | None = None


class ModelBundle:
    """A bundle folder, read lazily. ``version`` is set when it comes from the registry."""

    def __init__(self, path: str | Path, meta: BundleMeta, version: int | None = None) -> None:
        self.path = Path(path)
        self.meta = meta
        self.version = version
        self._schema: Schema | None = None

    @classmethod
    def load(cls, path: str | Path, version: int | None = None) -> ModelBundle:
        """Read ``bundle.json`` from ``path``; errors name the file and the field."""
        p = Path(path)
        meta_file = p / BUNDLE_FILE
        if not meta_file.exists():
            raise NotFoundError(f"{meta_file} does not exist: not a model bundle")
        try:
            meta = BundleMeta.model_validate(json.loads(meta_file.read_text(encoding="utf-8")))
        except (ValidationError, json.JSONDecodeError) as exc:
            raise DataError(f"{meta_file}: invalid bundle metadata: {exc}") from exc
        return cls(p, meta, version)

    def save_meta(self) -> None:
        """Write ``bundle.json``."""
        self.path.mkdir(parents=True, exist_ok=True)
        text = self.meta.model_dump_json(by_alias=True, indent=2)
        (self.path / BUNDLE_FILE).write_text(text, encoding="utf-8")

    @property
    def name(self) -> str:
        """Registered model name."""
        return self.meta.name

    @property
    def schema(self) -> Schema:
        """The schema the model was fitted on (fixed at fit, enforced at predict)."""
        if self._schema is None:
            self._schema = Schema.from_dict(self.meta.schema_)
        return self._schema

    @property
    def threshold(self) -> float:
        """Decision threshold chosen on validation; score >= threshold means positive."""
        return self.meta.threshold

    @property
    def onnx_path(self) -> Path:
        """The ONNX serving graph."""
        return self.path / ONNX_FILE

    @property
    def profile_path(self) -> Path:
        """The reference profile for monitoring."""
        return self.path / PROFILE_FILE

    @property
    def pipeline_path(self) -> Path:
        """The fitted Python pipeline (training side only)."""
        return self.path / PIPELINE_FILE

    def input_kinds(self) -> dict[str, FeatureKind]:
        """Model input name → kind, in ONNX input order."""
        return {n: self.schema[n].kind for n in self.meta.inputs}


def write_bundle(
    path: str | Path, meta: BundleMeta, onnx: bytes, files: dict[str, bytes | str] | None = None
) -> ModelBundle:
    """Write a bundle folder: ``bundle.json`` from ``meta``, ``model.onnx`` from ``onnx`` (serialized
    ONNX bytes) and any ``files`` (name → bytes or text, e.g. ``reference_profile.json``)."""
    bundle = ModelBundle(path, meta)
    bundle.save_meta()
    bundle.onnx_path.write_bytes(onnx)
    for name, content in (files or {}).items():
        target = bundle.path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return bundle
