"""The served model: a bundle's ONNX graph in ONNX Runtime, behind ``load / predict / unload`` + ``ready``.

ONNX Runtime runs with one intra-op and one inter-op thread on purpose: a tree model answers a row in
tens of microseconds, worker processes give the parallelism, and more threads per worker only
oversubscribe the cores (the common XGBoost/ORT latency-spike complaint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shopml.errors import ModelError, NotReadyError
from shopml.kinds import get_kind
from shopml.registry.bundle import ModelBundle
from shopml.schema import FeatureKind

__all__ = ["OnnxPredictor"]

_ORT_TYPES = {
    FeatureKind.NUMERIC: "tensor(float)",
    FeatureKind.BOOLEAN: "tensor(float)",
    FeatureKind.CATEGORICAL: "tensor(string)",
}


class OnnxPredictor:
    """One model version in ONNX Runtime. Reads only ``model.onnx`` (no pickle)."""

    def __init__(self, bundle: ModelBundle, *, threads: int = 1, extra_outputs: tuple[str, ...] = ()) -> None:
        """``extra_outputs``: graph outputs fetched besides the served one and appended to it column-wise
        (same rows, so micro-batches and the cache split and keep them too; a photo's embedding)."""
        self.bundle = bundle
        self.threads = threads
        self._extra = extra_outputs
        self.ready = False
        self._session: object | None = None
        self.kind = get_kind(bundle.meta.kind)
        self._output = bundle.meta.score_output
        # binary score / regression value: [N]; multiclass probabilities / ranking scores: [N, C]
        served = next((o for o in self.kind.outputs if o.name == self._output), None)
        self._flat = served is None or len(served.shape) == 1
        self._run: Callable[[dict[str, np.ndarray]], Any] = self._not_loaded

    def _open(self, prepack: bool = True) -> Any:
        import onnxruntime as ort

        path = self.bundle.onnx_path
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not prepack:
            opts.add_session_config_entry("session.disable_prepacking", "1")
        try:
            return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types
            raise ModelError(f"{path}: ONNX Runtime cannot load it: {exc}") from exc

    def load(
        self, contract: dict[str, str] | None = None, *, single_row_session: bool = False
    ) -> OnnxPredictor:
        """Open the ONNX session and check its inputs/outputs against the bundle contract (``contract``:
        input name → ONNX type, when the model's codec says so; else from the bundle's schema).

        ``single_row_session``: also open a second session without weight pre-packing for one-row
        batches. A wide output layer (a ranking model's item embeddings: 50,000 x 64) is a
        matrix-vector product for one row, which ONNX Runtime's pre-packed GEMM panels slow down (measured
        ~0.7 vs ~1.1 ms on this layer), while batches gain from them."""
        path = self.bundle.onnx_path
        if not path.exists():
            raise ModelError(f"{path} does not exist: bundle '{self.bundle.name}' has no ONNX export")
        session = self._open()
        got = {i.name: i.type for i in session.get_inputs()}
        if contract is None:
            contract = {n: _ORT_TYPES.get(k, "?") for n, k in self.bundle.input_kinds().items()}
        want = contract
        if got != want:
            raise ModelError(f"{path}: ONNX inputs {got} do not match the bundle contract {want}")
        names = {o.name for o in session.get_outputs()}
        missing = [o for o in (self._output, *self._extra) if o not in names]
        if missing:
            raise ModelError(f"{path}: no output named {', '.join(repr(m) for m in missing)}")
        self._session = session
        # The binding's run skips the Python wrapper's per-call input-name validation (~10 µs); the
        # codec already guarantees the names. Fall back to the public method if it ever disappears.
        run = self._runner(session)
        if single_row_session:
            one = self._runner(self._open(prepack=False))
            self._run = lambda feeds: (one if len(next(iter(feeds.values()))) == 1 else run)(feeds)
        else:
            self._run = run
        self.ready = True
        return self

    def _runner(self, session: Any) -> Callable[[dict[str, np.ndarray]], Any]:
        raw = getattr(session, "_sess", None)
        if self._extra:
            names = [self._output, *self._extra]
            fast = raw is not None and hasattr(raw, "run")

            def run_all(feeds: dict[str, np.ndarray]) -> np.ndarray:
                outs = raw.run(names, feeds, None) if fast else session.run(names, feeds)  # type: ignore[union-attr]
                return np.concatenate([np.asarray(o).reshape(len(o), -1) for o in outs], axis=1)

            return run_all
        output = [self._output]
        if raw is not None and hasattr(raw, "run"):
            return lambda feeds: raw.run(output, feeds, None)[0]
        return lambda feeds: session.run(output, feeds)[0]

    def predict(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The served output for validated feeds (see :class:`~shopml.serve.codec.InputCodec`): the
        bundle kind's ``served_output``, float32 of shape [N] (binary score, regression value) or
        [N, C] (multiclass probabilities, ranking scores)."""
        if self._session is None:
            raise NotReadyError(f"model '{self.bundle.name}' version {self.bundle.version} is not loaded")
        try:
            out = self._run(feeds)
        except Exception as exc:
            raise ModelError(f"model '{self.bundle.name}' failed to predict: {exc}") from exc
        return np.asarray(out).reshape(-1) if self._flat else np.asarray(out)

    def warm(
        self,
        sizes: tuple[int, ...] = (1, 8, 64),
        make_feeds: Callable[[int], dict[str, np.ndarray]] | None = None,
    ) -> None:
        """Run a few synthetic batches so the first real request pays no first-call costs
        (``make_feeds(n)``: the codec's synthetic batch; else one from the bundle's schema)."""
        schema = self.bundle.schema
        for n in sizes:
            if make_feeds is not None:
                self.predict(make_feeds(n))
                continue
            feeds: dict[str, np.ndarray] = {}
            for name, kind in self.bundle.input_kinds().items():
                if kind == FeatureKind.CATEGORICAL:
                    cats = schema[name].categories or ("",)
                    feeds[name] = np.full((n, 1), cats[0], dtype=object)
                else:
                    feeds[name] = np.zeros((n, 1), dtype=np.float32)
            self.predict(feeds)

    def unload(self) -> None:
        """Drop the session; ``predict`` then raises :class:`NotReadyError`."""
        self.ready = False
        self._session = None
        self._run = self._not_loaded

    def _not_loaded(self, feeds: dict[str, np.ndarray]) -> Any:
        raise NotReadyError(f"model '{self.bundle.name}' version {self.bundle.version} is not loaded")
