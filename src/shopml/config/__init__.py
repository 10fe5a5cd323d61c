"""Typed settings (read once from ``shopml.yaml`` + ``SHOPML_*`` env), the one YAML loader and the
workspace layout."""

from shopml.config.loader import load_yaml, parse_yaml, read_yaml, validate_model
from shopml.config.settings import Settings, load_settings
from shopml.config.workspace import Workspace

__all__ = ["Settings", "Workspace", "load_settings", "load_yaml", "parse_yaml", "read_yaml", "validate_model"]
