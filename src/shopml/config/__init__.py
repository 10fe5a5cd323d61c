"""Typed settings (read once from ``shopml.yaml`` + ``SHOPML_*`` env) and the workspace layout."""

from shopml.config.settings import Settings, load_settings
from shopml.config.workspace import Workspace

__all__ = ["Settings", "Workspace", "load_settings"]
