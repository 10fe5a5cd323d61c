"""Find the model bundle monitoring needs (threshold, target, business key, reference profile)."""

from __future__ import annotations

import importlib
from pathlib import Path

from shopml.config import Workspace
from shopml.errors import NotFoundError
from shopml.monitor.cache import reader_for
from shopml.registry import ModelBundle

__all__ = ["resolve_bundle"]


def resolve_bundle(
    workspace: Workspace | Path | str,
    model: str,
    bundle: ModelBundle | Path | str | None = None,
    tracking_uri: str | None = None,
    cache: bool = True,
) -> ModelBundle:
    """``bundle`` itself, the bundle folder it names, or the registry's champion of ``model``
    (``tracking_uri``: the settings' ``mlflow_uri``; default the workspace's SQLite store). The champion
    alias is looked up on every call; with ``cache`` the registry client is reused across calls."""
    if isinstance(bundle, ModelBundle):
        return bundle
    if bundle is not None:
        found = ModelBundle.load(bundle)
        if found.name != model:
            raise NotFoundError(f"bundle {bundle} is model '{found.name}', not '{model}'")
        return found
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    if cache:
        cached: ModelBundle = reader_for(ws, tracking_uri).load_bundle(model, "champion")
        return cached
    registry_cls = getattr(importlib.import_module("shopml.registry"), "Registry", None)
    if registry_cls is None:
        raise NotFoundError(f"no model registry available to find model '{model}'; pass a bundle folder")
    loaded: ModelBundle = registry_cls(ws, tracking_uri=tracking_uri).load_bundle(model, "champion")
    return loaded
