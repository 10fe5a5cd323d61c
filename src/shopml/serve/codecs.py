"""Which input codec serves a bundle: the one its model kind's ``input_layout`` names.

Feature rows (``rows``, every tabular kind) go through :class:`~shopml.serve.codec.InputCodec`; browsing
sessions (``session``, the ``ranking`` kind) through :class:`~shopml.serve.session.SessionCodec`. A kind
without ``input_layout`` reads feature rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopml.errors import ConfigError
from shopml.kinds import get_kind
from shopml.serve.codec import InputCodec
from shopml.serve.session import DEFAULT_MAX_K, SessionCodec

if TYPE_CHECKING:
    from shopml.registry.bundle import ModelBundle

__all__ = ["LAYOUTS", "Codec", "codec_for"]

Codec = InputCodec | SessionCodec
LAYOUTS = ("rows", "session")


def codec_for(bundle: ModelBundle, max_k: int = DEFAULT_MAX_K) -> Codec:
    """The input codec of ``bundle`` (``max_k``: the most items a ranking request may ask for)."""
    layout = getattr(get_kind(bundle.meta.kind), "input_layout", "rows")
    if layout == "session":
        return SessionCodec(bundle, max_k)
    if layout == "rows":
        return InputCodec(bundle)
    raise ConfigError(f"model kind '{bundle.meta.kind}' has input layout '{layout}' (known: {list(LAYOUTS)})")
