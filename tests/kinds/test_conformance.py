"""One conformance suite over every model kind, each with a tiny fitted model of that kind.

For every kind: batch prediction equals row-by-row prediction; prediction does not mutate its input;
a bundle saved and loaded again predicts identically through ONNX Runtime, and as the fitted Python model
did; bad input raises the documented error naming the field; the ``/v1`` and OIP v2 encodings
round-trip to the kind's outputs.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
from onnx import TensorProto, helper, numpy_helper
from tests.kinds.conftest import TrainedKind

from shopml.errors import SchemaError
from shopml.kinds import KINDS, get_kind
from shopml.registry.bundle import BundleMeta, ModelBundle, write_bundle
from shopml.schema import FeatureSpec, Schema
from shopml.serve.codec import InputCodec
from shopml.serve.predictor import OnnxPredictor

ITEMS = ["sku-a", "sku-b", "sku-c", "sku-d", "sku-e", "sku-f"]


@dataclass
class Subject:
    """A fitted model of one kind: its bundle, request rows, and the Python model's served output."""

    kind: str
    bundle: ModelBundle
    rows: list[dict[str, Any]]
    reference: Callable[[list[dict[str, Any]]], np.ndarray]
    numeric_input: str


def _rows(table: pa.Table, inputs: list[str], n: int) -> list[dict[str, Any]]:
    return [{k: r[k] for k in inputs} for r in table.slice(0, n).to_pylist()]


def _from_training(trained: TrainedKind) -> Subject:
    from shopml.train.data import to_frame

    bundle = ModelBundle.load(trained.bundle_dir)
    inputs = bundle.meta.inputs
    model = trained.result.model
    kinds = {n: bundle.schema[n].kind for n in inputs}

    def reference(rows: list[dict[str, Any]]) -> np.ndarray:
        return np.asarray(model.predict(to_frame(pa.Table.from_pylist(rows), inputs, kinds)))

    numeric = next(n for n in inputs if kinds[n].value == "numeric")
    return Subject(trained.kind, bundle, _rows(trained.table, inputs, 25), reference, numeric)


def _binary(root: Path) -> Subject:
    from benchmarks.serve_fixture import make_bundle, make_rows

    fixture = make_bundle(root / "binary", n_trees=10, n_rows=800)
    rows = [{k: r[k] for k in fixture.bundle.meta.inputs} for r in make_rows(25, seed=3)[0]]
    numeric = next(n for n in fixture.bundle.meta.inputs if fixture.bundle.schema[n].kind.value == "numeric")
    return Subject("binary", fixture.bundle, rows, fixture.reference_scores, numeric)


def _ranking(root: Path) -> Subject:
    """A hand-made scoring model: item scores = [recency, basket] @ W + b (one ONNX MatMul)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, len(ITEMS))).astype(np.float32)
    b = rng.normal(size=len(ITEMS)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Concat", ["recency", "basket"], ["x"], axis=1),
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["scores"]),
        ],
        "ranking",
        [
            helper.make_tensor_value_info("recency", TensorProto.FLOAT, [None, 1]),
            helper.make_tensor_value_info("basket", TensorProto.FLOAT, [None, 1]),
        ],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, len(ITEMS)])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    schema = Schema(
        features=(
            FeatureSpec(name="recency", kind="numeric", min=0.0),
            FeatureSpec(name="basket", kind="numeric"),
        )
    )
    meta = BundleMeta.model_validate(
        {
            "name": "recs",
            "task": "recs",
            "kind": "ranking",
            "schema": schema.to_dict(),
            "inputs": ["recency", "basket"],
            "score_output": "scores",
            "items": ITEMS,
            "top_k": 3,
        }
    )
    bundle = write_bundle(root / "ranking", meta, model.SerializeToString())
    rows = [{"recency": float(r), "basket": float(s)} for r, s in rng.uniform(0, 5, size=(25, 2))]

    def reference(rs: list[dict[str, Any]]) -> np.ndarray:
        x = np.array([[r["recency"], r["basket"]] for r in rs], dtype=np.float32)
        return np.asarray(x @ w + b)

    return Subject("ranking", bundle, rows, reference, "recency")


@pytest.fixture(scope="module", params=sorted(KINDS))
def subject(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Subject:
    """A tiny fitted model of each kind."""
    name = request.param
    if name == "multiclass":
        return _from_training(request.getfixturevalue("trained_multiclass"))
    if name == "regression":
        return _from_training(request.getfixturevalue("trained_regression"))
    root = tmp_path_factory.mktemp(name)
    return _binary(root) if name == "binary" else _ranking(root)


def _predict(bundle: ModelBundle, rows: list[dict[str, Any]]) -> np.ndarray:
    predictor = OnnxPredictor(bundle).load()
    codec = InputCodec(bundle)
    return predictor.predict(codec.encode_rows(rows).feeds)


def test_every_kind_is_covered(subject: Subject) -> None:
    assert subject.bundle.meta.kind == subject.kind
    assert subject.bundle.meta.score_output == get_kind(subject.kind).served_output


def test_batch_equals_row_by_row(subject: Subject) -> None:
    batch = _predict(subject.bundle, subject.rows)
    single = np.concatenate([_predict(subject.bundle, [r]) for r in subject.rows])
    assert batch.shape[0] == len(subject.rows)
    np.testing.assert_array_equal(batch, single)


def test_prediction_does_not_mutate_its_input(subject: Subject) -> None:
    rows = copy.deepcopy(subject.rows)
    head = get_kind(subject.kind).head(subject.bundle.meta.model_dump(by_alias=True))
    out = _predict(subject.bundle, rows)
    before = out.copy()
    head.encode_v1("m", 1, [str(i) for i in range(len(rows))], out)
    head.encode_v2("m", 1, "r", out, list(head.names))
    head.columns(out)
    assert rows == subject.rows
    np.testing.assert_array_equal(out, before)


def test_save_load_round_trip_predicts_identically(subject: Subject, tmp_path: Path) -> None:
    copied = Path(shutil.copytree(subject.bundle.path, tmp_path / "copy"))
    loaded = ModelBundle.load(copied)
    assert loaded.meta == subject.bundle.meta
    got = _predict(loaded, subject.rows)
    np.testing.assert_array_equal(got, _predict(subject.bundle, subject.rows))
    want = subject.reference(subject.rows)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_bad_input_raises_the_documented_error_naming_the_field(subject: Subject) -> None:
    codec = InputCodec(subject.bundle)
    field = subject.numeric_input
    bad = dict(subject.rows[0], **{field: "12,50"})
    with pytest.raises(SchemaError, match=rf"'{field}'.*number.*['\"]12,50['\"].*row 1"):
        codec.encode_rows([subject.rows[0], bad])
    missing = {k: v for k, v in subject.rows[0].items() if k != field}
    with pytest.raises(SchemaError, match=rf"{field}"):
        codec.encode_rows([missing])


def _v2_tensors(body: bytes) -> dict[str, np.ndarray]:
    doc = orjson.loads(body)
    out = {}
    for t in doc["outputs"]:
        dtype = object if t["datatype"] == "BYTES" else np.float64
        out[t["name"]] = np.asarray(t["data"], dtype=dtype).reshape(t["shape"])
    return out


def test_v1_and_oip_encodings_round_trip(subject: Subject) -> None:
    kind = get_kind(subject.kind)
    head = kind.head(subject.bundle.meta.model_dump(by_alias=True))
    out = _predict(subject.bundle, subject.rows)
    ids = [f"r{i}" for i in range(len(subject.rows))]
    cols = head.columns(out)

    v2 = _v2_tensors(head.encode_v2("m", 3, "req", out, list(head.names)))
    assert list(v2) == list(head.names) == [o.name for o in kind.outputs]
    for spec in kind.outputs:
        assert len(v2[spec.name].shape) == len(spec.shape)
    v1 = orjson.loads(head.encode_v1("m", 3, ids, out))
    preds = v1["predictions"]
    assert [p["request_id"] for p in preds] == ids
    assert {p["model_version"] for p in preds} == {3}
    for name in head.names:
        served = cols.get(name)
        if served is None:  # binary "decision" / derived outputs: compare v1 with v2
            served = v2[name]
        from_v1 = [p[name] for p in preds]
        if isinstance(from_v1[0], dict):  # multiclass probabilities: class → p, in class order
            from_v1 = [list(d.values()) for d in from_v1]
        got_v1, got_v2 = np.asarray(from_v1), v2[name]
        if got_v2.dtype == object:
            assert got_v1.tolist() == got_v2.tolist() == np.asarray(served).tolist()
        else:
            np.testing.assert_allclose(got_v1, np.asarray(served, dtype=np.float64), rtol=1e-6)
            np.testing.assert_allclose(got_v2, np.asarray(served, dtype=np.float64), rtol=1e-6)
