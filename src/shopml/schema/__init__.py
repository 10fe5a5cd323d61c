"""Feature schemas: inferred from data, overridable in YAML, enforced on frames and records."""

from shopml.schema.infer import infer_schema, read_table
from shopml.schema.model import FeatureKind, FeatureSpec, Schema
from shopml.schema.validate import ValidationResult, validate

__all__ = [
    "FeatureKind",
    "FeatureSpec",
    "Schema",
    "ValidationResult",
    "infer_schema",
    "read_table",
    "validate",
]
