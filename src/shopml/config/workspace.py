"""The workspace: the one folder that holds all of shopml's state in the embedded default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Workspace"]


@dataclass(frozen=True)
class Workspace:
    """Paths inside a workspace folder. Creating the object touches nothing; ``ensure`` makes the folders.

    >>> Workspace(Path("ws")).predictions_dir
    PosixPath('ws/logs/predictions')
    """

    root: Path

    def __post_init__(self) -> None:
        if not isinstance(self.root, Path):
            object.__setattr__(self, "root", Path(self.root))

    @property
    def data_dir(self) -> Path:
        """Simulated or imported data sets."""
        return self.root / "data"

    @property
    def registry_dir(self) -> Path:
        """MLflow tracking store (SQLite) and artifacts."""
        return self.root / "mlflow"

    @property
    def mlflow_uri(self) -> str:
        """Default tracking/registry URI: SQLite inside the workspace."""
        return f"sqlite:///{(self.registry_dir / 'mlflow.db').resolve()}"

    @property
    def artifacts_dir(self) -> Path:
        """MLflow artifact root."""
        return self.registry_dir / "artifacts"

    @property
    def logs_dir(self) -> Path:
        """Prediction log and labels."""
        return self.root / "logs"

    @property
    def predictions_dir(self) -> Path:
        """``model=NAME/date=YYYY-MM-DD/`` Parquet partitions of every served prediction."""
        return self.logs_dir / "predictions"

    @property
    def labels_dir(self) -> Path:
        """Delayed labels, joined to predictions on request id or business key."""
        return self.logs_dir / "labels"

    @property
    def events_dir(self) -> Path:
        """The event store (drift events, triggers, gate decisions, promotions)."""
        return self.root / "events"

    @property
    def reports_dir(self) -> Path:
        """HTML and JSON reports."""
        return self.root / "reports"

    def ensure(self) -> Workspace:
        """Create the folders (idempotent) and return self."""
        for d in (
            self.data_dir,
            self.registry_dir,
            self.logs_dir,
            self.events_dir,
            self.reports_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)
        return self
