"""Rewriting a converted tabular graph's outputs into a kind's served outputs (ONNX graph edits only).

skl2onnx names a classifier's outputs ``label`` (int64 class index) and ``probabilities`` [N, C], a
regressor's ``variable`` [N, 1]. The kinds serve ``probabilities`` + ``label`` (the class *name*, an
arg-max then a lookup in a string constant, so ONNX Runtime alone gives what the server answers) and
``value`` [N].
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["finish_multiclass", "finish_regression"]


def _rename(model: Any, old: str, new: str) -> None:
    for node in model.graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]


def _outputs(model: Any, *values: Any) -> None:
    del model.graph.output[:]
    model.graph.output.extend(values)


def finish_multiclass(model: Any, classes: list[str]) -> None:
    """Outputs ``probabilities`` FP32 [N, C] and ``label`` string [N] (``classes[argmax]``)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    names = [o.name for o in model.graph.output]
    proba = next(n for n in names if "prob" in n)
    raw_label = next((n for n in names if n != proba), None)
    if raw_label == "label":
        _rename(model, "label", "label_index")
    if proba != "probabilities":
        _rename(model, proba, "probabilities")
    g = model.graph
    g.initializer.append(numpy_helper.from_array(np.asarray(classes, dtype=object), name="class_names"))
    g.node.extend(
        [
            helper.make_node("ArgMax", ["probabilities"], ["label_argmax"], axis=1, keepdims=0),
            helper.make_node("Gather", ["class_names", "label_argmax"], ["label"], axis=0),
        ]
    )
    _outputs(
        model,
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(classes)]),
        helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
    )
    onnx.checker.check_model(model)


def finish_regression(model: Any) -> None:
    """Output ``value`` FP32 [N]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    raw = model.graph.output[0].name
    g = model.graph
    g.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), name="value_flat"))
    g.node.append(helper.make_node("Reshape", [raw, "value_flat"], ["value"]))
    _outputs(model, helper.make_tensor_value_info("value", TensorProto.FLOAT, [None]))
    onnx.checker.check_model(model)
