"""One product photo from a client, base64 PNG or JPEG, to the grey ``[H, W]`` pixels a CNN reads.

Steps: base64 (a ``data:image/...;base64,`` prefix is allowed) → at most :data:`MAX_IMAGE_BYTES` →
Pillow opens it as PNG or JPEG only (other formats are refused) → its declared size, read from the
header before any pixel is decoded, at most :data:`MAX_IMAGE_PIXELS` (a decompression bomb — a small
file declaring a huge picture — is refused before it costs memory) → decoded in full (a truncated file
is refused, not padded) → EXIF orientation applied → transparency composed over black → grey (ITU-R
601-2 luma) → fitted into ``H×W`` as Fashion-MNIST's photos were made: the longer side scaled to the
target with Lanczos filtering (after a fast integer reduction of a large photo), centred on a black
background → scaled to [0, 1].

Errors name the instance: :class:`~shopml.errors.SchemaError` (422) for what is not a complete PNG or
JPEG photo, :class:`~shopml.errors.PayloadTooLargeError` (413) for what is beyond the limits.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any

import numpy as np

from shopml.errors import PayloadTooLargeError, SchemaError

__all__ = ["FORMATS", "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "decode_photo", "fit"]

#: The most bytes one encoded photo may take (after base64 decoding): 512 KiB.
MAX_IMAGE_BYTES = 512 * 1024
#: The most pixels a photo may declare (width × height): 2048 × 2048. Decoding runs on the server's event
#: loop; the largest photo allowed (a flat 2048 × 2048 RGB PNG of 17 KB) takes about 0.1 s to decode.
MAX_IMAGE_PIXELS = 2048 * 2048
#: The formats Pillow may open (its other decoders are never reached).
FORMATS = ("PNG", "JPEG")
_PREFIX = "data:image/"


def _bytes(text: str, i: int) -> bytes:
    if text.startswith(_PREFIX):
        head, sep, text = text.partition(",")
        if not sep or not head.endswith(";base64"):
            raise SchemaError(f"instance {i}: field 'image' is a data URL without ';base64,' data")
    if len(text) > (MAX_IMAGE_BYTES + 2) // 3 * 4 + 4:
        raise PayloadTooLargeError(
            f"instance {i}: the photo is about {len(text) * 3 // 4} bytes, over the limit of"
            f" {MAX_IMAGE_BYTES} bytes per photo"
        )
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SchemaError(f"instance {i}: field 'image' is not valid base64 text") from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise PayloadTooLargeError(
            f"instance {i}: the photo is {len(raw)} bytes, over the limit of {MAX_IMAGE_BYTES} bytes"
            " per photo"
        )
    if not raw:
        raise SchemaError(f"instance {i}: field 'image' is empty")
    return raw


def _open(raw: bytes, i: int, size: tuple[int, int]) -> Any:
    from PIL import Image, ImageOps, UnidentifiedImageError

    img: Any
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below decides
            img = Image.open(io.BytesIO(raw), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise PayloadTooLargeError(f"instance {i}: the photo is too large to decode ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise SchemaError(
            f"instance {i}: field 'image' is not a PNG or JPEG photo ({type(exc).__name__}: {exc})"
        ) from None
    w, h = img.size
    if w * h > MAX_IMAGE_PIXELS:
        raise PayloadTooLargeError(
            f"instance {i}: the photo declares {w}×{h} = {w * h} pixels, over the limit of"
            f" {MAX_IMAGE_PIXELS} pixels per photo"
        )
    if w < 1 or h < 1:
        raise SchemaError(f"instance {i}: the photo is {w}×{h} pixels: empty")
    if img.format == "JPEG":
        img.draft("L", (size[1], size[0]))  # decode a big JPEG at a reduced scale: cheaper, same result
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise SchemaError(
            f"instance {i}: field 'image' is not a complete {img.format} photo ({type(exc).__name__}: {exc})"
        ) from None
    return img


def fit(img: Any, size: tuple[int, int]) -> np.ndarray:
    """A Pillow image → grey float32 ``size`` (H, W) in [0, 1]: transparency over black, the longer side
    scaled to fit, centred on black."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    grey = img.convert("L")
    h, w = size
    if grey.size != (w, h):
        scale = min(w / grey.width, h / grey.height)
        nw, nh = max(1, round(grey.width * scale)), max(1, round(grey.height * scale))
        resized = grey.resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=3.0)
        grey = Image.new("L", (w, h), 0)
        grey.paste(resized, ((w - nw) // 2, (h - nh) // 2))
    return np.asarray(grey, dtype=np.float32) / np.float32(255.0)


def decode_photo(text: str, i: int, size: tuple[int, int]) -> np.ndarray:
    """Instance ``i``'s base64 photo → grey float32 pixels of ``size`` (H, W) in [0, 1]."""
    return fit(_open(_bytes(text, i), i, size), size)
