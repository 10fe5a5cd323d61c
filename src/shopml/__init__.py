"""shopml: the production ML loop of an online shop — train, serve, watch for drift, retrain."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use (importlib.metadata costs
    ~10 ms, which every ``import shopml.x`` and every CLI start would otherwise pay)."""
    if name != "__version__":
        raise AttributeError(f"module 'shopml' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("shopml")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
