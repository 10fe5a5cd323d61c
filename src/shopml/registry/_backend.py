"""MLflow plumbing: quiet environment, tracking URI, the SQLite store and retries on a busy database.

MLflow is imported lazily (``import mlflow`` costs ~1.5 s) so that ``shopml --help`` and the server's
bundle code stay fast. A new SQLite store is copied from a migrated template cached per MLflow version
(MLflow's first migration takes ~4 s), switched to WAL once, and placed atomically.
MLflow itself sets ``PRAGMA busy_timeout = 20000`` on every session; :func:`retry_locked` also retries
the "database is locked" errors SQLite raises without waiting (a stale WAL snapshot upgrading to write)
and the unique-key races of MLflow's upserts.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from shopml.config import Workspace
from shopml.errors import ConfigError, ShopmlError

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

__all__ = ["guarded", "import_mlflow", "make_client", "resolve_uri", "retry_locked", "sqlite_path"]

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")
_QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",  # a team server that is down fails in seconds, not minutes
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "GIT_PYTHON_REFRESH": "quiet",
}
# Transient SQLite conflicts: a busy database, and the unique-key race of MLflow's check-then-insert
# upserts (two processes setting the same alias or tag at once); both roll back, so a retry is safe.
_RETRY = ("database is locked", "database is busy", "database table is locked", "unique constraint failed")
_prepared: set[str] = set()


def _quiet() -> None:
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def resolve_uri(workspace: Workspace, tracking_uri: str | None) -> str:
    """The tracking/registry URI: explicit > ``$SHOPML_MLFLOW_URI`` > SQLite in the workspace."""
    return tracking_uri or os.environ.get("SHOPML_MLFLOW_URI") or workspace.mlflow_uri


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, else None."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///") :].split("?", 1)[0])


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shopml"


def _migrate(db: Path) -> None:
    """Create MLflow's tables in ``db`` (no default experiment: each store creates its own)."""
    _quiet()
    from mlflow.store.db.utils import _initialize_tables, create_sqlalchemy_engine

    engine = create_sqlalchemy_engine(f"sqlite:///{db}")
    try:
        _initialize_tables(engine)
    finally:
        engine.dispose()


def _set_wal(db: Path) -> None:
    con = sqlite3.connect(db, timeout=20.0)
    try:
        if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            con.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:  # busy: another process is switching it right now
        pass
    finally:
        con.close()


def _template() -> Path | None:
    """A migrated empty MLflow database for this MLflow version, created once per machine."""
    from importlib.metadata import version

    path = _cache_root() / f"mlflow-{version('mlflow')}-template.db"
    if path.exists():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        _migrate(tmp)
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def _prepare_sqlite(db: Path) -> None:
    """Make sure ``db`` exists, is migrated and in WAL mode; concurrent callers are safe."""
    if db.exists():
        _set_wal(db)
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{uuid.uuid4().hex}")
    try:
        template = _template()
        if template is not None:
            shutil.copyfile(template, tmp)
        else:
            _migrate(tmp)
        _set_wal(tmp)
        with contextlib.suppress(FileExistsError):  # atomic; never overwrites another process's store
            os.link(tmp, db)
    finally:
        tmp.unlink(missing_ok=True)


def import_mlflow() -> None:
    """Import the MLflow modules the registry uses (~1.5 s), e.g. in a parent before forking workers."""
    _quiet()
    import mlflow.entities
    import mlflow.store.model_registry.sqlalchemy_store
    import mlflow.store.tracking.sqlalchemy_store
    import mlflow.tracking  # noqa: F401

    logging.getLogger("mlflow").setLevel(logging.WARNING)


def make_client(uri: str) -> MlflowClient:
    """An MLflow client for ``uri`` (tracking and registry), creating a local SQLite store if needed."""
    _quiet()
    db = sqlite_path(uri)
    if db is not None and uri not in _prepared:
        _prepare_sqlite(db)
        _prepared.add(uri)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def retry_locked(fn: Callable[[], T], attempts: int = 8, first_wait_s: float = 0.05) -> T:
    """Call ``fn``; on a transient SQLite conflict wait (exponential backoff) and try again."""
    wait = first_wait_s
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            transient = any(m in str(exc).lower() for m in _RETRY) and not is_duplicate(exc)
            if attempt == attempts - 1 or not transient:
                raise
            time.sleep(wait)
            wait = min(wait * 2, 2.0)
    raise AssertionError("unreachable")  # pragma: no cover


def is_missing(exc: BaseException) -> bool:
    """True for MLflow's RESOURCE_DOES_NOT_EXIST."""
    return getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def is_duplicate(exc: BaseException) -> bool:
    """True for MLflow's RESOURCE_ALREADY_EXISTS."""
    return getattr(exc, "error_code", "") == "RESOURCE_ALREADY_EXISTS"


def guarded(fn: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Turn errors from MLflow and its database layer into :class:`ShopmlError` naming the store."""

    @functools.wraps(fn)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(self, *args, **kwargs)
        except ShopmlError:
            raise
        except Exception as exc:
            origin = type(exc).__module__.split(".", 1)[0]
            if origin not in ("mlflow", "sqlalchemy", "sqlite3", "requests", "urllib3", "alembic"):
                raise
            uri = getattr(self, "tracking_uri", "?")
            if "out-of-date database schema" in str(exc):
                raise ConfigError(
                    f"the MLflow store {uri} was made by another MLflow version; back it up, then run "
                    f"`mlflow db upgrade {uri}`"
                ) from exc
            raise ShopmlError(f"MLflow store {uri}: {type(exc).__name__}: {exc}") from exc

    return wrapper


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` with :func:`retry_locked`."""
    return retry_locked(lambda: fn(*args, **kwargs))
