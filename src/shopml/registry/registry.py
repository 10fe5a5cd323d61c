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
from typing import Any

from shopml.config import Workspace
from shopml.errors import NotFoundError, ShopmlError
from shopml.registry import _backend as be
from shopml.registry.champion import LOG_TAG, ChampionLog
from shopml.registry.checks import (
    check_alias,
    check_bundle,
    check_metrics,
    check_params,
    check_tags,
    numeric_leaves,
)
from shopml.registry.info import CHALLENGER, CHAMPION, PREVIOUS_CHAMPION, ModelVersionInfo
from shopml.registry.lineage import collect_lineage, flatten_tags
from shopml.registry.reader import RegistryReader

__all__ = ["Registry"]

_REMOTE = ("http://", "https://", "databricks")


class Registry(RegistryReader):
    """The only door to MLflow: register bundles as versions, move ``champion``, roll back.

    ``tracking_uri`` defaults to ``$SHOPML_MLFLOW_URI``, else SQLite in the workspace (WAL mode).
    """

    def __init__(self, workspace: Workspace, tracking_uri: str | None = None) -> None:
        super().__init__(workspace, tracking_uri)
        self._experiments: dict[str, str] = {}  # model name -> experiment id
        self._known_models: set[str] = set()

    def close(self) -> None:
        """Forget the client and the ids cached from it."""
        super().close()
        self._experiments.clear()
        self._known_models.clear()

    @be.guarded
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
            run_tags = {**version_tags, "shopml.model": name}
            if lineage.get("lineage.git_commit"):  # shown by the MLflow UI
                run_tags["mlflow.source.git.commit"] = lineage["lineage.git_commit"]
            self._log_run(run_id, run_params, run_metrics, run_tags)
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
        with self._lock(name):
            if set_alias == "auto" and version == 1:
                self._move_champion(name, version, "register", "first version")
            elif set_alias == "auto":  # never move challenger back to an older concurrent registration
                if self.aliases(name).get(CHALLENGER, 0) < version:
                    self._set_alias(name, CHALLENGER, version)
            elif alias == CHAMPION:
                self._move_champion(name, version, "register", "registered as champion")
            elif alias is not None:
                self._set_alias(name, alias, version)
        return self.resolve(name, version)

    def _log_run(
        self, run_id: str, params: dict[str, str], metrics: dict[str, float], tags: dict[str, str]
    ) -> None:
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        ms = [Metric(k, v, now, 0) for k, v in metrics.items()]
        ps = [Param(k, v) for k, v in params.items()]
        ts = [RunTag(k, v) for k, v in tags.items()]
        n = max(-(-len(ms) // 800), -(-len(ps) // 100), -(-len(ts) // 100), 1)  # MLflow's batch limits
        for k in range(n):
            m, p = slice(k * 800, (k + 1) * 800), slice(k * 100, (k + 1) * 100)
            be.call(self._client.log_batch, run_id, metrics=ms[m], params=ps[p], tags=ts[p])

    def _experiment(self, name: str) -> str:
        if name in self._experiments:
            return self._experiments[name]
        self._experiments[name] = self._get_or_create_experiment(name)
        return self._experiments[name]

    def _get_or_create_experiment(self, name: str) -> str:
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
        if name in self._known_models:
            return
        try:
            be.call(self._client.create_registered_model, name, tags={"shopml.task": task})
        except Exception as exc:
            if not be.is_duplicate(exc):
                raise
        self._known_models.add(name)

    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """Serialise champion moves of one model across the processes sharing this workspace (a file
        lock: processes on other machines sharing a team tracking server are not covered)."""
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

    @be.guarded
    def promote(self, name: str, version: int | str, reason: str = "") -> ModelVersionInfo:
        """Make ``version`` the champion; the previous champion is kept for :meth:`rollback`."""
        with self._lock(name):
            info = self.resolve(name, int(version) if str(version).isdigit() else version)
            if not info.is_champion:
                self._move_champion(name, info.version, "promote", reason)
        return self.resolve(name, info.version)

    @be.guarded
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
