"""The only door to MLflow: model bundles, versions, aliases (champion/challenger) and lineage.

>>> from pathlib import Path
>>> from shopml.registry import Registry
>>> from shopml.config import Workspace
>>> Registry(Workspace(Path("ws")), tracking_uri="sqlite:////tmp/x.db").tracking_uri  # touches nothing
'sqlite:////tmp/x.db'
"""

from shopml.registry.bundle import BundleMeta, ModelBundle, write_bundle
from shopml.registry.info import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    ModelVersionInfo,
    RegisteredModelInfo,
)
from shopml.registry.lineage import collect_lineage
from shopml.registry.reader import RegistryReader
from shopml.registry.registry import Registry

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "PREVIOUS_CHAMPION",
    "BundleMeta",
    "ModelBundle",
    "ModelVersionInfo",
    "RegisteredModelInfo",
    "Registry",
    "RegistryReader",
    "collect_lineage",
    "write_bundle",
]
