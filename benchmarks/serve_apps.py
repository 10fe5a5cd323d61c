"""The comparison apps of ``bench_serve``, run on the same uvicorn stack (uvloop + httptools).

- ``noop``: a bare ASGI app answering a constant JSON body; the ceiling for Python HTTP here.
- ``busy``: the no-op that first spins ``$BENCH_BUSY_US`` microseconds of CPU per request: how much of
  the no-op's rate an app with a fixed per-request cost can keep on this stack.
- ``naive_app``: the common way — FastAPI + pydantic request model + a pandas frame + XGBoost
  ``predict_proba`` on the fitted scikit-learn pipeline (loaded with joblib from ``$BENCH_PIPELINE``;
  pickle is fine for a baseline, never on shopml's serving path).
"""

import os
import time
from typing import Any

__all__ = ["busy", "naive_app", "noop"]

_BODY = b'{"ok":true}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def noop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the body, answer ``{"ok": true}``."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                await send({"type": msg["type"] + ".complete"})
                if msg["type"] == "lifespan.shutdown":
                    return
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


_BUSY_NS = int(float(os.environ.get("BENCH_BUSY_US", "0")) * 1000)


async def busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``noop`` after spinning ``$BENCH_BUSY_US`` µs on the event loop (a stand-in for app work)."""
    if scope["type"] == "http":
        end = time.perf_counter_ns() + _BUSY_NS
        while time.perf_counter_ns() < end:
            pass
    await noop(scope, receive, send)


def naive_app() -> Any:
    """uvicorn factory for the FastAPI baseline (needs the ``bench`` extra: ``pip install shopml[bench]``)."""
    import joblib
    import pandas as pd
    from fastapi import FastAPI
    from pydantic import BaseModel

    from benchmarks.serve_fixture import BOOLEAN, INPUTS, NUMERIC

    pipeline = joblib.load(os.environ["BENCH_PIPELINE"])
    pipeline.set_params(clf__n_jobs=1)

    class Instance(BaseModel):
        amount: float
        account_age_days: float
        hour: float
        txn_count_24h: float
        amount_avg_30d: float | None = None
        seconds_since_last_txn: float | None = None
        currency: str
        country: str
        ip_country: str
        merchant_category: str
        payment_method: str
        device_type: str
        is_new_device: bool
        transaction_id: str | None = None
        event_time: str | None = None

    class PredictRequest(BaseModel):
        instances: list[Instance]

    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/v1/models/fraud/predict")
    def predict(req: PredictRequest) -> dict[str, Any]:
        df = pd.DataFrame([i.model_dump() for i in req.instances])[list(INPUTS)]
        for c in (*NUMERIC, *BOOLEAN):
            df[c] = df[c].astype("float32")
        scores = pipeline.predict_proba(df)[:, 1]
        return {"predictions": [{"score": float(s), "decision": int(s >= 0.5)} for s in scores]}

    return app
