"""The served models: the ``champion`` of every registered model, loaded from the registry, hot-swapped.

A new champion is loaded and warmed in a worker thread while the old version keeps serving; the switch
is one assignment on the event loop. Requests hold the :class:`ServedModel` they started with, so
in-flight requests finish on the old version, which is unloaded once its last request is answered.
Models come only from the registry (``list_models`` / ``load_bundle``), never from a client's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shopml.config.settings import ServeSettings
from shopml.errors import NotFoundError, NotReadyError, ShopmlError
from shopml.kinds import OutputHead, get_kind
from shopml.logstore.stream import LogStream
from shopml.registry.bundle import ModelBundle
from shopml.serve.admin import AdminState
from shopml.serve.batch import Encoded
from shopml.serve.batcher import MicroBatcher
from shopml.serve.cache import ScoreCache
from shopml.serve.codecs import Codec, codec_for
from shopml.serve.metrics import ServeMetrics
from shopml.serve.predictor import OnnxPredictor

__all__ = ["ModelRepository", "ModelSource", "ServedModel"]

log = logging.getLogger(__name__)
CHAMPION = "champion"
#: With an unchanged registry database, the full registry query is still made this often (seconds).
FULL_CHECK_S = 30.0


class _ModelInfo(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> dict[str, int]: ...


class ModelSource(Protocol):
    """What the server needs from :class:`shopml.registry.Registry`."""

    def list_models(self) -> Sequence[_ModelInfo]: ...

    def load_bundle(self, name: str, ref: str | int = CHAMPION) -> ModelBundle: ...


@dataclass(eq=False)
class ServedModel:
    """One loaded model version with its input codec, batcher and (optional) cache."""

    name: str
    version: int
    bundle: ModelBundle
    predictor: OnnxPredictor
    codec: Codec
    batcher: MicroBatcher
    cache: ScoreCache | None
    metrics: ServeMetrics
    stream: LogStream
    inflight: int = 0
    retired: bool = False
    label: str = field(init=False)
    head: OutputHead = field(init=False)  # the bundle kind's outputs and their encoding

    def __post_init__(self) -> None:
        self.label = str(self.version)
        self.head = get_kind(self.bundle.meta.kind).head(self.bundle.meta.model_dump(by_alias=True))

    @property
    def threshold(self) -> float:
        """The decision threshold of this version."""
        return self.bundle.threshold

    def scores(self, enc: Encoded) -> Awaitable[Any]:
        """Scores for a validated batch: from the cache when allowed and fresh, else the batcher."""
        if self.cache is None:
            return self.batcher.enqueue(enc, enc.n)
        return self._cached_scores(self.cache, enc)

    def scores_now(self, enc: Encoded) -> Any | None:
        """Scores computed inline for a lone request (see :meth:`MicroBatcher.run_now`); None: use
        :meth:`scores` (a cached model, or something queued)."""
        if self.cache is not None:
            return None
        return self.batcher.run_now(enc, enc.n)

    async def _cached_scores(self, cache: ScoreCache, enc: Encoded) -> Any:
        key = enc.cache_key()
        hit = cache.get(key)
        self.metrics.observe_cache(self.name, hit is not None)
        if hit is not None:
            return hit
        out = await self.batcher.enqueue(enc, enc.n)
        cache.put(key, out)
        return out


class ModelRepository:
    """Champions by name; ``refresh`` follows alias moves; ``acquire``/``release`` bracket a request."""

    def __init__(
        self,
        source: ModelSource,
        settings: ServeSettings,
        metrics: ServeMetrics,
        admin: AdminState | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.metrics = metrics
        self.admin = admin
        self.ready = False
        self._models: dict[str, ServedModel] = {}
        self._failed: dict[str, str] = {}
        self._unloaded: set[str] = set()
        self._lock = asyncio.Lock()
        self._db = _sqlite_files(getattr(source, "tracking_uri", None))
        self._seen: tuple[int, ...] | None = None  # the database's fingerprint at the last full check
        self._checked = 0.0

    # --- loading (blocking; run in a thread from the event loop) --------------------------------
    def build(self, name: str, version: int) -> ServedModel:
        """Fetch ``name`` version ``version`` from the registry, load it in ONNX Runtime and warm it."""
        bundle = self.source.load_bundle(name, version)
        s = self.settings
        codec = codec_for(bundle, s.max_k)
        wide = codec.layout == "session"  # one score per catalogue item: a wide output layer
        extra = tuple(getattr(codec, "extra_outputs", ()))  # fetched besides the served output
        predictor = OnnxPredictor(bundle, extra_outputs=extra)
        predictor.load(codec.ort_types(), single_row_session=wide)
        predictor.warm((1, min(8, s.max_batch_size), s.max_batch_size), codec.warm_feeds)
        runner = getattr(codec, "runner", None)  # a codec that reads more than the served output (text)
        batcher = MicroBatcher(
            runner(predictor) if runner is not None else lambda block: predictor.predict(codec.feeds(block)),
            concat=codec.concat,
            max_batch_size=s.max_batch_size,
            max_batch_delay_s=s.max_batch_delay_ms / 1000.0,
            on_batch=lambda rows: self.metrics.observe_batch(name, rows),
        )
        cached = s.cache_size > 0 and (name in s.cache_models or "*" in s.cache_models)
        cache = ScoreCache(s.cache_size, s.cache_ttl_s) if cached else None
        meta = bundle.meta
        outputs = {**get_kind(meta.kind).head(meta.model_dump(by_alias=True)).log_types, **codec.log_types}
        stream = LogStream(
            name, version, meta.threshold, codec.log_kinds, codec.id_column, codec.time_column, outputs
        )
        served = ServedModel(name, version, bundle, predictor, codec, batcher, cache, self.metrics, stream)
        wrap = getattr(codec, "wrap_head", None)  # a codec whose answers the kind's head reads through it
        # (photos: top categories and auto_assign; texts)
        if wrap is not None:
            served.head = wrap(served.head)
        return served

    def champions(self) -> dict[str, int]:
        """Model name → champion version, as the registry says now."""
        return {m.name: int(m.aliases[CHAMPION]) for m in self.source.list_models() if CHAMPION in m.aliases}

    def _try_build(self, name: str, version: int) -> ServedModel | None:
        """:meth:`build`, or None with the reason kept: one model that cannot load (a bad bundle, an
        unreadable cache file, an ONNX Runtime error) never stops the others."""
        try:
            return self.build(name, version)
        except Exception as exc:
            reason = exc.message if isinstance(exc, ShopmlError) else f"{type(exc).__name__}: {exc}"
            self._failed[name] = f"version {version} cannot be served: {reason}"
            log.warning("model %s: %s", name, self._failed[name], exc_info=not isinstance(exc, ShopmlError))
            return None

    def load_all(self) -> None:
        """Load every champion (blocking) but those an administrator unloaded. Models that cannot be
        served are reported, not fatal."""
        if self.admin is not None:
            self._unloaded = self.admin.read()
        for name, version in self.champions().items():
            if name in self._unloaded:
                continue
            served = self._try_build(name, version)
            if served is not None:
                self._install(served)
        self.ready = True

    # --- hot swap ------------------------------------------------------------------------------
    def _install(self, served: ServedModel) -> None:
        old = self._models.get(served.name)
        self._models[served.name] = served
        self._failed.pop(served.name, None)
        self.metrics.version.labels(served.name).set(served.version)
        if old is not None:
            self.metrics.swaps.labels(served.name).inc()
            old.retired = True
            if old.inflight == 0:
                old.predictor.unload()
            log.info("model %s: version %d replaces %d", served.name, served.version, old.version)

    async def refresh(self, only: str | None = None) -> dict[str, int]:
        """Load champions that moved (all models, or ``only``); returns name → version now served."""
        async with self._lock:
            champions = await asyncio.to_thread(self.champions)
            if only is not None:
                if only not in champions:
                    raise NotFoundError(f"model '{only}' has no champion in the registry")
                champions = {only: champions[only]}
            for name, version in champions.items():
                current = self._models.get(name)
                if (name in self._unloaded and name != only) or (
                    current is not None and current.version == version
                ):
                    continue
                served = await asyncio.to_thread(self._try_build, name, version)
                self._unloaded.discard(name)  # loaded, or failed (and so reported as failed)
                if served is not None:
                    self._install(served)
            return {n: m.version for n, m in self._models.items() if only in (None, n)}

    async def poll_forever(self) -> None:
        """Follow champion moves every ``poll_interval_s`` (errors are logged, polling goes on).

        A SQLite registry (the workspace default) is queried only when its files changed since the last
        query (size, mtime, inode of the database and its WAL: a few µs), when a model failed to load, or
        after ``FULL_CHECK_S``: the MLflow query takes tens of ms of Python, holding the GIL the event
        loop needs."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.poll_interval_s)
            if self.admin is not None and self.admin.changed():
                try:
                    await self.follow_admin()
                except Exception:
                    log.exception("applying the admin state failed")
            seen = self.fingerprint()
            unchanged = seen is not None and seen == self._seen and not self._failed
            if unchanged and loop.time() - self._checked < FULL_CHECK_S:
                continue
            try:
                self._seen, self._checked = seen, loop.time()
                await self.refresh()
            except Exception:
                self._seen = None
                log.exception("polling the registry failed")

    def fingerprint(self) -> tuple[int, ...] | None:
        """Size, mtime and inode of the registry's SQLite files (None: not SQLite, or not readable)."""
        if self._db is None:
            return None
        out: list[int] = []
        for path in self._db:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                out += (0, 0, 0)
                continue
            except OSError:
                return None
            out += (st.st_size, st.st_mtime_ns, st.st_ino)
        return tuple(out)

    async def follow_admin(self) -> None:
        """Apply the shared admin state: unload what another worker unloaded, load what it loaded."""
        if self.admin is None:
            return
        want = self.admin.read()
        for name in want - self._unloaded:
            self._drop(name)
        for name in sorted(self._unloaded - want):
            with contextlib.suppress(NotFoundError):  # no champion any more: nothing to load
                await self.refresh(only=name)

    async def admin_load(self, name: str) -> dict[str, int]:
        """Load ``name``'s champion again (admin), on every worker; name → version now served."""
        if self.admin is not None:
            await asyncio.to_thread(self.admin.update, load=name)
        return await self.refresh(only=name)

    def unload(self, name: str) -> None:
        """Stop serving ``name`` until it is loaded again (admin), on every worker and across restarts."""
        if name not in self._models:
            raise NotFoundError(f"model '{name}' is not loaded")
        if self.admin is not None:
            self.admin.update(unload=name)
        self._drop(name)

    def _drop(self, name: str) -> None:
        self._unloaded.add(name)
        served = self._models.pop(name, None)
        if served is None:
            return
        served.retired = True
        if served.inflight == 0:
            served.predictor.unload()

    # --- request path --------------------------------------------------------------------------
    def get(self, name: str, version: int | None = None) -> ServedModel:
        """The served model, or 404 (unknown / other version) / 503 (not loaded yet or unloaded)."""
        served = self._models.get(name)
        if served is None:
            if name in self._failed:
                raise NotReadyError(f"model '{name}' is not ready: {self._failed[name]}")
            if name in self._unloaded:
                raise NotReadyError(f"model '{name}' was unloaded; load it to serve it again")
            if not self.ready:
                raise NotReadyError(f"model '{name}' is not ready: the server is still loading models")
            raise NotFoundError(f"model '{name}' is not served (served: {sorted(self._models)})")
        if version is not None and version != served.version:
            raise NotFoundError(f"model '{name}' version {version} is not served (serving {served.version})")
        return served

    def acquire(self, name: str, version: int | None = None) -> ServedModel:
        """:meth:`get` and count the request as in flight on that version."""
        served = self.get(name, version)
        served.inflight += 1
        return served

    def release(self, served: ServedModel) -> None:
        """The request is answered; unload a retired version after its last request."""
        served.inflight -= 1
        if served.retired and served.inflight == 0:
            served.predictor.unload()

    @property
    def models(self) -> dict[str, ServedModel]:
        """Served models by name."""
        return dict(self._models)

    @property
    def unloaded(self) -> frozenset[str]:
        """Models an administrator unloaded."""
        return frozenset(self._unloaded)

    @property
    def failed(self) -> dict[str, str]:
        """Models that could not be loaded, with the reason."""
        return dict(self._failed)


def _sqlite_files(uri: object) -> tuple[str, str] | None:
    """The database and WAL files of a ``sqlite:///`` tracking URI, else None."""
    if not isinstance(uri, str) or not uri.startswith("sqlite:///"):
        return None
    db = uri[len("sqlite:///") :].split("?", 1)[0]
    return (db, db + "-wal") if db and db != ":memory:" else None
