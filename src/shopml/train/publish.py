"""Publishing a trained bundle: written to a staging folder, renamed into place, then registered.

Every check runs while the bundle is in staging; a failure (a parity check, a registry error) leaves no
bundle folder and no registry version behind.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopml.config import Workspace
from shopml.registry.bundle import REPORT_FILE

__all__ = ["RegisterArgs", "publish"]


@dataclass(frozen=True)
class RegisterArgs:
    """What the registry records with the new version (run parameters, metrics, tags)."""

    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, str]
    tracking_uri: str | None = None


def publish(
    name: str,
    write: Callable[[Path], float],
    *,
    ws: Workspace | None,
    out_dir: str | Path | None,
    registration: RegisterArgs | None,
    say: Callable[[str], None],
) -> tuple[Path, float, Any, Path]:
    """``write(staging)`` the bundle (returns the parity delta), move it to ``out_dir`` (default
    ``WORKSPACE/bundles/NAME/STAMP``), register it in ``ws``'s registry (``registration`` given, champion
    alias set automatically); copy the report into the workspace.
    Returns (bundle folder, parity delta, registry version or None, report path)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    final = Path(out_dir) if out_dir is not None else Path(ws.root if ws else ".") / "bundles" / name / stamp
    staging = final.parent / f".staging-{final.name}-{uuid.uuid4().hex[:6]}"
    version = None
    try:
        delta = write(staging)
        if final.exists():
            if any(final.iterdir()):
                raise FileExistsError(f"bundle folder {final} exists and is not empty")
            final.rmdir()
        staging.rename(final)
        if registration is not None and ws is not None:
            say("registering")
            from shopml.registry import Registry

            version = Registry(ws, tracking_uri=registration.tracking_uri).register(
                final,
                params=registration.params,
                metrics=registration.metrics,
                tags=registration.tags,
                set_alias="auto",
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if version is None and final.exists() and out_dir is None:
            shutil.rmtree(final, ignore_errors=True)
        raise
    report_path = final / REPORT_FILE
    if ws is not None:
        ws.reports_dir.mkdir(parents=True, exist_ok=True)
        report_path = Path(shutil.copy2(final / REPORT_FILE, ws.reports_dir / f"train-{name}-{stamp}.html"))
    return final, delta, version, report_path
