"""The one small exception hierarchy of shopml.

Every error that can reach a user knows the HTTP status it maps to, so the thin shells (HTTP, CLI) map
exceptions without logic of their own:

>>> SchemaError("feature 'amount' must be a number").status
422
>>> NotReadyError("model 'fraud' is loading").status
503
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "ForbiddenError",
    "InsufficientDataError",
    "ModelError",
    "NotFoundError",
    "NotReadyError",
    "PayloadTooLargeError",
    "SchemaError",
    "ShopmlError",
    "UnauthorizedError",
]


class ShopmlError(Exception):
    """Base of every shopml error. ``status`` is the HTTP status; 500 means our own fault."""

    status: int = 500
    kind: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The JSON error body (Open Inference Protocol shape: ``{"error": ...}``) plus the kind."""
        return {"error": self.message, "kind": self.kind}


class ConfigError(ShopmlError):
    """A settings file or value is invalid (names the key, the value and what was expected)."""

    status = 422
    kind = "config"


class SchemaError(ShopmlError):
    """Input does not match the feature schema (names the field, the row and what was expected)."""

    status = 422
    kind = "schema"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems if problems is not None else [message]


class DataError(ShopmlError):
    """A data file or table is missing, unreadable or unusable for the job asked of it."""

    status = 422
    kind = "data"


class InsufficientDataError(DataError):
    """Too little data (or a single class, or no positives) to answer honestly."""

    kind = "insufficient_data"


class NotFoundError(ShopmlError):
    """An unknown model, version, alias, file or resource."""

    status = 404
    kind = "not_found"


class NotReadyError(ShopmlError):
    """The resource exists but cannot serve yet (loading, warming up, shutting down)."""

    status = 503
    kind = "not_ready"


class PayloadTooLargeError(ShopmlError):
    """A request body beyond the configured limit."""

    status = 413
    kind = "payload_too_large"


class UnauthorizedError(ShopmlError):
    """An administrative call without a valid bearer token."""

    status = 401
    kind = "unauthorized"


class ForbiddenError(ShopmlError):
    """An administrative call to an endpoint that is switched off."""

    status = 403
    kind = "forbidden"


class ModelError(ShopmlError):
    """A model failed while predicting or exporting: our fault, never the client's."""

    status = 500
    kind = "model"
