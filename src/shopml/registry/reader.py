"""The read side of the registry: models, versions, aliases, history and cached bundle downloads.

The server only needs this part; :class:`shopml.registry.Registry` adds registering and alias moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from shopml.config import Settings, Workspace
from shopml.errors import NotFoundError
from shopml.registry import _backend as be
from shopml.registry.bundle import ModelBundle
from shopml.registry.cache import cached_bundle
from shopml.registry.champion import LOG_TAG, ChampionLog
from shopml.registry.info import CHAMPION, ModelVersionInfo, RegisteredModelInfo, from_millis

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel
    from mlflow.tracking import MlflowClient

__all__ = ["RegistryReader"]


class RegistryReader:
    """Read access to the registry. Cheap to construct: MLflow is imported and the store opened on first use.

    ``tracking_uri`` defaults to ``$SHOPML_MLFLOW_URI``, else SQLite in the workspace (WAL mode).
    """

    def __init__(self, workspace: Workspace, tracking_uri: str | None = None) -> None:
        self.workspace = workspace
        self.tracking_uri = be.resolve_uri(workspace, tracking_uri)
        self._client_: MlflowClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
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

    @be.guarded
    def connect(self) -> Self:
        """Import MLflow and open the store now rather than on first use (e.g. at server start-up)."""
        _ = self._client
        return self

    def close(self) -> None:
        """Forget the client (MLflow shares its database engine per process, so nothing else to free)."""
        self._client_ = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def _info(self, mv: ModelVersion, aliases: list[str] | None = None) -> ModelVersionInfo:
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
            aliases=sorted(mv.aliases or [] if aliases is None else aliases),
            created_at=from_millis(mv.creation_timestamp),
            metrics=metrics,
            tags=dict(mv.tags or {}),
            source=mv.source or "",
        )

    @be.guarded
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

    @be.guarded
    def versions(self, name: str) -> list[ModelVersionInfo]:
        """All versions of ``name``, oldest first."""
        by_version: dict[int, list[str]] = {}
        for alias, version in (self._model(name).aliases or {}).items():
            by_version.setdefault(int(version), []).append(alias)
        # searched versions carry no aliases: take them from the registered model
        return [self._info(mv, by_version.get(int(mv.version), [])) for mv in self._versions(name)]

    @be.guarded
    def aliases(self, name: str) -> dict[str, int]:
        """Alias → version number for ``name``."""
        return {a: int(v) for a, v in (self._model(name).aliases or {}).items()}

    @be.guarded
    def resolve(self, name: str, ref: str | int = CHAMPION) -> ModelVersionInfo:
        """The version ``ref`` names: a version number (``3`` or ``"3"``) or an alias (``"champion"``)."""
        return self._info(self._version(name, ref))

    def _version(self, name: str, ref: str | int) -> ModelVersion:
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
        return mv

    @be.guarded
    def history(self, name: str) -> list[dict[str, Any]]:
        """Champion moves of ``name`` (register, promote, rollback), oldest first."""
        return ChampionLog.from_json(self._model(name).tags.get(LOG_TAG)).history

    @be.guarded
    def load_bundle(self, name: str, ref: str | int = CHAMPION) -> ModelBundle:
        """The bundle of version ``ref``, downloaded once into the workspace cache; ``.version`` set."""
        mv = self._version(name, ref)  # no run lookup: this is the server's hot-swap path
        run_id, version = str(mv.run_id), int(mv.version)

        def download(tmp: Path) -> Path:
            return Path(be.call(self._client.download_artifacts, run_id, "bundle", str(tmp)))

        return cached_bundle(self.cache_dir, name, version, run_id, download)
