"""``shopml serve`` (one worker) for ``bench_serve_costs``, optionally with a free model.

    python -m benchmarks.serve_variant --workspace WS --port P [--free-model]

``--free-model`` replaces :meth:`shopml.serve.OnnxPredictor.predict` in this process with constant
scores, so that a benchmark can tell the model's share of a request from everything else the server
does. Benchmark code only: the product has no such switch.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--free-model", action="store_true", help="constant scores instead of ONNX Runtime")
    args = ap.parse_args()
    from shopml.config import load_settings
    from shopml.serve import OnnxPredictor, run

    if args.free_model:

        def predict(self: OnnxPredictor, feeds: dict[str, np.ndarray]) -> Any:
            n = next(iter(feeds.values())).shape[0]
            return np.full(n, 0.25, dtype=np.float32)

        OnnxPredictor.predict = predict  # type: ignore[method-assign]
    settings = load_settings(workspace=args.workspace)
    run(settings, host="127.0.0.1", port=args.port, workers=1)


if __name__ == "__main__":
    main()
