"""The only door to MLflow: model bundles, versions, aliases (champion/challenger) and lineage."""

from shopml.registry.bundle import BundleMeta, ModelBundle

__all__ = ["BundleMeta", "ModelBundle"]
