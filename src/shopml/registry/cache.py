"""The local bundle cache: each model version downloaded once, atomically, under the workspace.

``CACHE/NAME/VERSION/`` appears by one ``rename`` of a complete download, so concurrent server workers
either see a whole bundle or none. Versions are immutable; a marker with the run id guards against a
cache filled from another tracking server.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from shopml.errors import NotFoundError
from shopml.registry.bundle import BUNDLE_FILE, ModelBundle

__all__ = ["MARKER_FILE", "cached_bundle"]

MARKER_FILE = ".registry.json"


def _cached_run(path: Path) -> str | None:
    try:
        return str(json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cached_bundle(
    cache_root: Path, name: str, version: int, run_id: str, download: Callable[[Path], Path]
) -> ModelBundle:
    """The bundle of ``name`` v``version`` from the cache, calling ``download(tmp_dir) -> folder`` once."""
    final = cache_root / name / str(version)
    if _cached_run(final) == run_id:
        return ModelBundle.load(final, version=version)
    tmp = cache_root / name / f".tmp-{version}-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        local = download(tmp)
        if not (local / BUNDLE_FILE).is_file():
            raise NotFoundError(f"model '{name}' version {version}: the registry holds no {BUNDLE_FILE}")
        (local / MARKER_FILE).write_text(json.dumps({"run_id": run_id, "version": version}), "utf-8")
        if final.exists() and _cached_run(final) != run_id:  # stale: another tracking store
            stale = final.with_name(f".stale-{version}-{uuid.uuid4().hex}")
            try:
                os.rename(final, stale)
                shutil.rmtree(stale, ignore_errors=True)
            except OSError:
                pass
        try:
            os.rename(local, final)
        except OSError:
            if _cached_run(final) != run_id:  # not a concurrent winner with the same content
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ModelBundle.load(final, version=version)
