"""The serving data plane: model name/version and validated inputs in, predictions out — no wire types.

One :class:`DataPlane` per worker holds the model repository (hot swap, per-model batcher and cache),
the prediction log, the metrics, request ids, readiness and the administrative actions. The protocol
shells (the raw-ASGI REST app, the gRPC servicer) parse their wire format into an
:class:`~shopml.serve.batch.Encoded` batch with the model's codec, call :meth:`DataPlane.predict`,
encode the :class:`Prediction` back and, once the answer is out, call :meth:`DataPlane.record`. Errors
are :class:`~shopml.errors.ShopmlError` subclasses; each shell maps their status to its own codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import os
import time
from typing import Any

from shopml import __version__
from shopml.config.settings import ServeSettings
from shopml.errors import ForbiddenError, NotReadyError, SchemaError, UnauthorizedError
from shopml.kinds import get_kind
from shopml.logstore.writer import LogWriter
from shopml.serve.batch import Encoded
from shopml.serve.metrics import FLUSH_INTERVAL_S, ServeMetrics
from shopml.serve.repository import ModelRepository, ServedModel

__all__ = ["DataPlane", "Prediction"]

log = logging.getLogger(__name__)


class Prediction:
    """One answered batch: the model version that scored it, its inputs, per-row ids and outputs."""

    __slots__ = ("enc", "ids", "rid", "scores", "served")

    def __init__(self, served: ServedModel, enc: Encoded, rid: str, ids: list[str], scores: Any) -> None:
        self.served, self.enc, self.rid, self.ids, self.scores = served, enc, rid, ids, scores


class DataPlane:
    """``DataPlane(repository, settings, metrics, prediction_log)``: what every protocol shell calls."""

    def __init__(
        self,
        repository: ModelRepository,
        settings: ServeSettings,
        metrics: ServeMetrics,
        prediction_log: LogWriter | None = None,
        *,
        poll: bool = True,
    ) -> None:
        self.repo = repository
        self.settings = settings
        self.metrics = metrics
        self.plog = prediction_log
        self.poll = poll
        self._prefix = os.urandom(4).hex()
        self._ids = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._log_seen = (0, 0)  # the log's (written, dropped) at the last publish
        self.log_failing = False  # the last publish saw rows dropped and none written
        self._window = settings.event_time_window_s

    # --- lifecycle -----------------------------------------------------------------------------
    async def startup(self) -> None:
        """Load every champion, start the log writer and the registry poller."""
        if self.plog is not None:
            self.plog.start()
        if not self._window:
            log.warning("serve.event_time_window_s is 0: client event times are logged as sent (replay)")
        await asyncio.to_thread(self.repo.load_all)
        if self.poll:
            self._tasks.append(asyncio.create_task(self.repo.poll_forever()))
        self._tasks.append(asyncio.create_task(self._publish()))

    async def _publish(self) -> None:
        """Flush the accumulated metrics and the log backlog gauge every ``FLUSH_INTERVAL_S``.

        From the loop, so a stuck log writer still shows its growing backlog."""
        while True:
            self.metrics.flush()
            if self.plog is not None:
                self.plog.publish()
                seen = (self.plog.written, self.plog.dropped)
                if seen != self._log_seen:  # rows dropped and none written since: the log is failing
                    self.log_failing = seen[1] > self._log_seen[1] and seen[0] == self._log_seen[0]
                    self._log_seen = seen
            await asyncio.sleep(FLUSH_INTERVAL_S)

    async def shutdown(self) -> None:
        """Stop polling and write every logged prediction to disk."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.plog is not None:
            await asyncio.to_thread(self.plog.close)
        self.metrics.flush()

    def new_id(self) -> str:
        """A request id unique across workers: a random per-process prefix and a counter."""
        return f"{self._prefix}-{next(self._ids):x}"

    # --- health and metadata -------------------------------------------------------------------
    def check_ready(self) -> None:
        """Return when the server is ready to serve, else raise :class:`NotReadyError` saying why: still
        loading, a champion that failed to load (the others still serve), or — with
        ``serve.ready_requires_log`` — a prediction log that drops rows instead of writing them."""
        repo = self.repo
        if not repo.ready:
            raise NotReadyError("the server is still loading models")
        failed = repo.failed
        if failed:
            reasons = "; ".join(f"'{n}': {r}" for n, r in sorted(failed.items()))
            raise NotReadyError(f"{len(failed)} model(s) cannot be served ({reasons})")
        if self.log_failing and self.settings.ready_requires_log:
            raise NotReadyError(
                "the prediction log cannot be written: rows are being dropped (see the server log;"
                " serve.ready_requires_log)"
            )

    def model_ready(self, name: str, version: int | None = None) -> bool:
        """Whether ``name`` (at ``version``) is loaded and answering; False while it failed to load or
        is unloaded; 404 for a model this server does not know."""
        repo = self.repo
        if name in repo.failed or name in repo.unloaded:
            return False
        return bool(repo.get(name, version).predictor.ready)

    @staticmethod
    def server_metadata() -> dict[str, Any]:
        """The OIP server metadata."""
        extensions = ["model_repository", "binary_tensor_data"]
        return {"name": "shopml", "version": __version__, "extensions": extensions}

    def model_metadata(self, name: str, version: int | None = None) -> dict[str, Any]:
        """The OIP model metadata: inputs with datatypes, outputs, threshold, id and time columns."""
        served = self.repo.get(name, version)
        codec = served.codec
        return {
            "name": served.name,
            "versions": [served.label],
            "platform": "onnxruntime_onnx",
            "inputs": codec.input_metadata(),
            "outputs": [o.to_dict() for o in get_kind(served.bundle.meta.kind).outputs],
            "parameters": {
                **served.head.metadata(),
                **codec.parameters_metadata(),
                "kind": served.bundle.meta.kind,
                "id_column": codec.id_column,
                "time_column": codec.time_column,
            },
        }

    # --- inference -----------------------------------------------------------------------------
    def acquire(self, name: str, version: int | None = None) -> ServedModel:
        """The served model (404 unknown / 503 not ready), counted in flight until :meth:`release`."""
        return self.repo.acquire(name, version)

    def release(self, served: ServedModel) -> None:
        """The request on ``served`` is answered (a retired version unloads after its last one)."""
        self.repo.release(served)

    @staticmethod
    def arriving(served: ServedModel, delta: int) -> None:
        """Announce (+1) or withdraw (-1) a request whose body is still being read: the batcher waits
        for it rather than flushing a batch it would have joined."""
        served.batcher.arriving(delta)

    async def predict(self, served: ServedModel, enc: Encoded, rid: str, *, lone: bool = False) -> Prediction:
        """Score a validated batch on ``served``: inline when ``lone`` (the only live request and
        nothing queued), else through the cache and the micro-batcher. Row ids are ``rid`` for one row,
        ``rid-i`` for several."""
        if enc.times is not None and self._window:
            self._check_times(enc)
        scores = served.scores_now(enc) if lone else None
        if scores is None:
            scores = await served.scores(enc)
        if enc.unseen:
            for feature, count in enc.unseen.items():
                self.metrics.unseen.labels(served.name, feature).inc(count)
        ids = [rid] if enc.n == 1 else [f"{rid}-{i}" for i in range(enc.n)]
        return Prediction(served, enc, rid, ids, enc.finish(scores))

    def _check_times(self, enc: Encoded) -> None:
        """Client event times must lie within ``event_time_window_s`` of the server clock: a client must
        not steer which monitoring window its rows fall into (a replay or backfill sets the window to 0,
        which the log's ``ts`` column, the server's own time, tells apart)."""
        window = self._window
        now = time.time()
        for i, t in enumerate(enc.times or ()):
            if t is not None and abs(t.timestamp() - now) > window:
                name = enc.codec.time_column
                raise SchemaError(
                    f"field '{name}' is {t.isoformat()}, {abs(t.timestamp() - now) / 3600:.1f} h from the"
                    f" server clock; client times must be within {window:g} s"
                    f" (serve.event_time_window_s; 0 trusts client times) (row {i})"
                )

    def record(self, pred: Prediction, elapsed: float) -> None:
        """Append the prediction to the log (after the answer went out: off the client's wait)."""
        plog = self.plog
        if plog is None:
            return
        served, enc = pred.served, pred.enc
        ts = time.time()
        latency_ms = elapsed * 1000.0
        head, stream = served.head, served.stream
        scores = head.score(pred.scores)  # the kind's one number per row (binary: the score)
        outputs = head.log_columns(pred.scores) if stream.outputs else None
        source = "client" if self._window else "client_unchecked"  # rows without an event time: server
        if enc.rows is not None:
            data = stream.row_lines(enc.rows, pred.ids, scores, ts, latency_ms, enc.times, outputs, source)
        else:
            data = stream.lines(
                pred.ids, scores, enc.logged, ts, latency_ms, enc.ids, enc.times, outputs, source
            )
        plog.append(served.stream, ts, enc.n, data)

    def observe(
        self, model: str, version: str, endpoint: str, status: int, elapsed: float, protocol: str = "rest"
    ) -> None:
        """Count one answered request (``status`` in HTTP terms, whatever the ``protocol``)."""
        self.metrics.observe_request(model, version, endpoint, status, elapsed, protocol)

    def count_error(self, kind: str) -> None:
        """Count one error answer by its kind."""
        self.metrics.errors.labels(kind).inc()

    # --- administration ------------------------------------------------------------------------
    def check_admin(self, token: str | bytes | None) -> None:
        """Raise unless ``token`` is the configured admin token (403 when admin is switched off)."""
        want = self.settings.admin_token
        if not want:
            raise ForbiddenError("administrative endpoints are off: set serve.admin_token to enable them")
        got = token.encode() if isinstance(token, str) else token
        if got is None or not hmac.compare_digest(got, want.encode()):
            raise UnauthorizedError("administrative endpoint: missing or wrong bearer token")

    def index(self) -> list[dict[str, Any]]:
        """Every model known to this worker with its state (READY, or UNAVAILABLE with the reason)."""
        repo = self.repo
        out: list[dict[str, Any]] = [
            {"name": m.name, "version": m.label, "state": "READY"} for m in repo.models.values()
        ]
        out += [{"name": n, "state": "UNAVAILABLE", "reason": r} for n, r in repo.failed.items()]
        return out

    async def load(self, name: str) -> dict[str, Any]:
        """Load (or reload) ``name``'s champion."""
        served = await self.repo.admin_load(name)
        return {"name": name, "version": served.get(name), "state": "READY"}

    def unload(self, name: str) -> dict[str, Any]:
        """Stop serving ``name`` until it is loaded again."""
        self.repo.unload(name)
        return {"name": name, "state": "UNLOADED"}
