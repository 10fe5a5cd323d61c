"""Score an Arrow table with a bundle's ONNX graph (the serving path: no pickle, same numbers as serve).

Inputs follow the bundle contract: one ``[N, 1]`` input per model feature, float32 for numeric and
boolean (missing → NaN), string for categorical (missing → ``""``). The output read is the one the model's
kind serves (:attr:`shopml.kinds.ModelKind.served_output`): a binary model's calibrated ``score`` [N], a
multiclass model's ``probabilities`` [N, C], a regression model's ``value`` [N].
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import SchemaError
from shopml.kinds import get_kind
from shopml.registry.bundle import ModelBundle
from shopml.schema import FeatureKind

__all__ = ["onnx_feeds", "score_table"]


def onnx_feeds(bundle: ModelBundle, table: pa.Table) -> dict[str, np.ndarray]:
    """The ONNX input arrays for ``table``; a missing model input is a :class:`SchemaError` naming it."""
    missing = [n for n in bundle.meta.inputs if n not in table.column_names]
    if missing:
        raise SchemaError(f"table lacks model inputs {missing} of model '{bundle.name}'")
    feeds: dict[str, np.ndarray] = {}
    for name, kind in bundle.input_kinds().items():
        col = table.column(name)
        if kind == FeatureKind.CATEGORICAL:
            values = pc.fill_null(pc.cast(col, pa.string()), "").to_numpy(zero_copy_only=False)
            feeds[name] = np.asarray(values, dtype=object).reshape(-1, 1)
        else:
            values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
            feeds[name] = np.asarray(values, dtype=np.float32).reshape(-1, 1)
    return feeds


def score_table(bundle: ModelBundle, table: pa.Table, batch_size: int = 50_000) -> np.ndarray:
    """The served output for every row of ``table`` via ONNX Runtime (one thread): ``[N]`` (a binary
    model's calibrated P(positive), a regression model's value) or ``[N, C]`` (class probabilities)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(bundle.onnx_path), opts, providers=["CPUExecutionProvider"])
    output = get_kind(bundle.meta.kind).served_output
    names = [o.name for o in session.get_outputs()]
    if output not in names:
        raise SchemaError(f"{bundle.onnx_path}: no output '{output}' (outputs: {names})")
    parts = []
    for start in range(0, max(table.num_rows, 1), batch_size):
        chunk = table.slice(start, batch_size)
        if chunk.num_rows == 0:
            break
        (out,) = session.run([output], onnx_feeds(bundle, chunk))
        arr = np.asarray(out, dtype=np.float64)
        parts.append(arr.reshape(arr.shape[0], -1) if arr.ndim > 1 and arr.shape[-1] > 1 else arr.reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0)
