"""The registry: register bundles as MLflow model versions, resolve aliases, promote, roll back, load.

Versions are immutable; the aliases ``champion`` and ``challenger`` move over them (MLflow stages are
deprecated). Promotion keeps a stack of previous champions (see :mod:`shopml.registry.champion`) so that
``rollback`` restores them one after the other.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopml.config import Settings, Workspace
from shopml.errors import NotFoundError, ShopmlError
from shopml.registry import _backend as be
from shopml.registry.bundle import ModelBundle
from shopml.registry.cache import cached_bundle
from shopml.registry.champion import LOG_TAG, ChampionLog
from shopml.registry.checks import (
    check_alias,
    check_bundle,
    check_metrics,
    check_params,
    check_tags,
    numeric_leaves,
)
from shopml.registry.info import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    ModelVersionInfo,
    RegisteredModelInfo,
    from_millis,
)
from shopml.registry.lineage import collect_lineage, flatten_tags

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel
    from mlflow.tracking import MlflowClient

__all__ = ["Registry"]

_REMOTE = ("http://", "https://", "databricks")


class Registry:
    """The only door to MLflow. Cheap to construct: MLflow is imported and the store opened on first use.

    ``tracking_uri`` defaults to ``$SHOPML_MLFLOW_URI``, else SQLite in the workspace (WAL mode).
    """

    def __init__(self, workspace: Workspace, tracking_uri: str | None = None) -> None:
        self.workspace = workspace
        self.tracking_uri = be.resolve_uri(workspace, tracking_uri)
        self._client_: MlflowClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """The registry the settings point at (``workspace``, ``mlflow_uri``)."""
        return cls(Workspace(settings.workspace), settings.mlflow_uri)

    @property
    def cache_dir(self) -> Path:
        """Where downloaded bundles live: ``CACHE/NAME/VERSION/``."""
        return self.workspace.registry_dir / "cache"

    @property
    def _client(self) -> MlflowClient:
        if self._client_ is None:
            self._client_ = be.make_client(self.tracking_uri)
        return self._client_

    def close(self) -> None:
        """Forget the client (MLflow shares its database engine per process, so nothing else to free)."""
        self._client_ = None

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- register
    def register(
        self,
        bundle_dir: str | Path,
        *,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
        set_alias: str | None = "auto",
    ) -> ModelVersionInfo:
        """Log a run (params, metrics, tags, lineage, the bundle folder) and register a new version.

        ``set_alias="auto"``: the first version becomes ``champion``, later ones ``challenger``.
        The bundle is checked before any write; if logging fails no version is created.
        """
        bundle = check_bundle(bundle_dir)
        name, meta = bundle.name, bundle.meta
        run_params = check_params(params)
        run_metrics = {**numeric_leaves(meta.metrics), **check_metrics(metrics)}
        user_tags = check_tags(tags)
        alias = None if set_alias in (None, "auto") else check_alias(str(set_alias))
        lineage = flatten_tags(collect_lineage(meta.lineage), "lineage")
        version_tags = {
            **user_tags,
            **lineage,
            "shopml.task": meta.task,
            "shopml.threshold": repr(meta.threshold),
            "shopml.objective": meta.objective,
        }
        client = self._client
        experiment_id = self._experiment(name)
        run = be.call(client.create_run, experiment_id, run_name=f"{name}-{meta.task}")
        run_id = run.info.run_id
        try:
            self._log_run(run_id, run_params, run_metrics, {**version_tags, "shopml.model": name})
            be.call(client.log_artifacts, run_id, str(bundle.path), "bundle")
            self._ensure_model(name, meta.task)
            mv = be.call(
                client.create_model_version,
                name,
                source=f"{run.info.artifact_uri}/bundle",
                run_id=run_id,
                tags=version_tags,
            )
        except Exception as exc:
            be.call(client.set_terminated, run_id, "FAILED")
            raise ShopmlError(f"registering model '{name}' from {bundle.path} failed: {exc}") from exc
        be.call(client.set_terminated, run_id, "FINISHED")
        version = int(mv.version)
        if set_alias == "auto":
            alias = CHAMPION if version == 1 else CHALLENGER
        if alias == CHAMPION:
            with self._lock(name):
                self._move_champion(name, version, "register", "first version" if version == 1 else "")
        elif alias is not None:
            be.call(client.set_registered_model_alias, name, alias, str(version))
        return self.resolve(name, version)

    def _log_run(
        self, run_id: str, params: dict[str, str], metrics: dict[str, float], tags: dict[str, str]
    ) -> None:
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        ms = [Metric(k, v, now, 0) for k, v in metrics.items()]
        ps = [Param(k, v) for k, v in params.items()]
        ts = [RunTag(k, v) for k, v in tags.items()]
        for i in range(0, max(len(ms), 1), 1000):
            be.call(self._client.log_batch, run_id, metrics=ms[i : i + 1000])
        for i in range(0, max(len(ps), len(ts), 1), 100):
            be.call(self._client.log_batch, run_id, params=ps[i : i + 100], tags=ts[i : i + 100])

    def _experiment(self, name: str) -> str:
        exp_name = f"shopml/{name}"
        exp = be.call(self._client.get_experiment_by_name, exp_name)
        if exp is not None:
            return str(exp.experiment_id)
        location = None
        if not self.tracking_uri.startswith(_REMOTE):
            location = (self.workspace.artifacts_dir / name).resolve().as_uri()
        try:
            return str(be.call(self._client.create_experiment, exp_name, artifact_location=location))
        except Exception as exc:
            if not be.is_duplicate(exc):
                raise
            found = be.call(self._client.get_experiment_by_name, exp_name)
            if found is None:
                raise
            return str(found.experiment_id)

    def _ensure_model(self, name: str, task: str) -> None:
        try:
            be.call(self._client.create_registered_model, name, tags={"shopml.task": task})
        except Exception as exc:
            if not be.is_duplicate(exc):
                raise

    # ----------------------------------------------------------------------------- read
    def _model(self, name: str) -> RegisteredModel:
        try:
            return be.call(self._client.get_registered_model, name)
        except Exception as exc:
            if not be.is_missing(exc):
                raise
        known = ", ".join(m.name for m in self.list_models()) or "none"
        raise NotFoundError(f"model '{name}' is not registered (registered models: {known})")

    def _versions(self, name: str) -> list[ModelVersion]:
        found = be.call(self._client.search_model_versions, f"name = '{name}'")
        return sorted(found, key=lambda mv: int(mv.version))

    def _info(self, mv: ModelVersion) -> ModelVersionInfo:
        metrics: dict[str, float] = {}
        if mv.run_id:
            try:
                metrics = dict(be.call(self._client.get_run, mv.run_id).data.metrics)
            except Exception as exc:
                if not be.is_missing(exc):
                    raise
        return ModelVersionInfo(
            name=mv.name,
            version=int(mv.version),
            run_id=mv.run_id or "",
            aliases=sorted(mv.aliases or []),
            created_at=from_millis(mv.creation_timestamp),
            metrics=metrics,
            tags=dict(mv.tags or {}),
            source=mv.source or "",
        )

    def list_models(self) -> list[RegisteredModelInfo]:
        """Every registered model, sorted by name."""
        out: list[RegisteredModelInfo] = []
        token: str | None = None
        while True:
            page = be.call(self._client.search_registered_models, max_results=100, page_token=token)
            for rm in page:
                versions = [int(mv.version) for mv in self._versions(rm.name)]
                out.append(
                    RegisteredModelInfo(
                        name=rm.name,
                        latest_version=max(versions, default=None),
                        n_versions=len(versions),
                        aliases={a: int(v) for a, v in (rm.aliases or {}).items()},
                        created_at=from_millis(rm.creation_timestamp),
                        updated_at=from_millis(rm.last_updated_timestamp),
                        tags={k: v for k, v in (rm.tags or {}).items() if k != LOG_TAG},
                    )
                )
            token = page.token
            if not token:
                return sorted(out, key=lambda m: m.name)

    def versions(self, name: str) -> list[ModelVersionInfo]:
        """All versions of ``name``, oldest first."""
        self._model(name)
        return [self._info(mv) for mv in self._versions(name)]

    def aliases(self, name: str) -> dict[str, int]:
        """Alias → version number for ``name``."""
        return {a: int(v) for a, v in (self._model(name).aliases or {}).items()}

    def resolve(self, name: str, ref: str | int = CHAMPION) -> ModelVersionInfo:
        """The version ``ref`` names: a version number (``3`` or ``"3"``) or an alias (``"champion"``)."""
        number = ref if isinstance(ref, int) else int(ref) if str(ref).isdigit() else None
        try:
            if number is not None:
                mv = be.call(self._client.get_model_version, name, str(number))
            else:
                mv = be.call(self._client.get_model_version_by_alias, name, str(ref))
        except Exception as exc:
            if not be.is_missing(exc) and "INVALID_PARAMETER_VALUE" not in str(
                getattr(exc, "error_code", "")
            ):
                raise
            aliases = self.aliases(name)  # raises for an unknown model
            if number is not None:
                known = ", ".join(str(v) for v in sorted({int(m.version) for m in self._versions(name)}))
                raise NotFoundError(f"model '{name}' has no version {number} (versions: {known})") from None
            shown = ", ".join(f"{a}→v{v}" for a, v in sorted(aliases.items())) or "none"
            raise NotFoundError(f"model '{name}' has no alias '{ref}' (aliases: {shown})") from None
        return self._info(mv)

    def history(self, name: str) -> list[dict[str, Any]]:
        """Champion moves of ``name`` (register, promote, rollback), oldest first."""
        return ChampionLog.from_json(self._model(name).tags.get(LOG_TAG)).history

    def load_bundle(self, name: str, ref: str | int = CHAMPION) -> ModelBundle:
        """The bundle of version ``ref``, downloaded once into the workspace cache; ``.version`` set."""
        info = self.resolve(name, ref)

        def download(tmp: Path) -> Path:
            return Path(be.call(self._client.download_artifacts, info.run_id, "bundle", str(tmp)))

        return cached_bundle(self.cache_dir, name, info.version, info.run_id, download)

    # ----------------------------------------------------------------------------- promote / rollback
    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """Serialise champion moves of one model across the processes sharing this workspace."""
        path = self.workspace.registry_dir / "locks" / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write_log(self, name: str, log: ChampionLog) -> None:
        be.call(self._client.set_registered_model_tag, name, LOG_TAG, log.to_json())

    def _set_alias(self, name: str, alias: str, version: int | None) -> None:
        if version is not None:
            be.call(self._client.set_registered_model_alias, name, alias, str(version))
            return
        try:
            be.call(self._client.delete_registered_model_alias, name, alias)
        except Exception as exc:
            if not be.is_missing(exc):
                raise

    def _move_champion(self, name: str, version: int, action: str, reason: str) -> None:
        """Make ``version`` champion, pushing the current one on the rollback stack first."""
        rm = self._model(name)
        aliases = {a: int(v) for a, v in (rm.aliases or {}).items()}
        current = aliases.get(CHAMPION)
        log = ChampionLog.from_json(rm.tags.get(LOG_TAG))
        if current is not None:
            log.push(current)
        log.record(action, version, current, reason)
        self._write_log(name, log)  # before the flip: a crash here leaves current on top, skipped later
        self._set_alias(name, CHAMPION, version)
        self._set_alias(name, PREVIOUS_CHAMPION, current if current is not None else log.top)
        if aliases.get(CHALLENGER) == version:
            self._set_alias(name, CHALLENGER, None)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        be.call(self._client.set_model_version_tag, name, str(version), "shopml.promoted_at", stamp)

    def promote(self, name: str, version: int | str, reason: str = "") -> ModelVersionInfo:
        """Make ``version`` the champion; the previous champion is kept for :meth:`rollback`."""
        with self._lock(name):
            info = self.resolve(name, int(version) if str(version).isdigit() else version)
            if not info.is_champion:
                self._move_champion(name, info.version, "promote", reason)
        return self.resolve(name, info.version)

    def rollback(self, name: str, reason: str = "") -> ModelVersionInfo:
        """Make the previous champion champion again; each further call goes one step further back."""
        with self._lock(name):
            rm = self._model(name)
            current = {a: int(v) for a, v in (rm.aliases or {}).items()}.get(CHAMPION)
            log = ChampionLog.from_json(rm.tags.get(LOG_TAG))
            target = log.pop_previous(current)
            if target is None:
                raise NotFoundError(
                    f"model '{name}' has no previous champion to roll back to "
                    f"(champion: {'v' + str(current) if current else 'none'})"
                )
            self.resolve(name, target)  # the version must still exist
            self._set_alias(name, CHAMPION, target)  # flip first: a crash leaves target on top, skipped
            log.record("rollback", target, current, reason)
            self._write_log(name, log)
            self._set_alias(name, PREVIOUS_CHAMPION, log.top)
            if current is not None:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                be.call(
                    self._client.set_model_version_tag, name, str(current), "shopml.rolled_back_at", stamp
                )
        return self.resolve(name, target)
