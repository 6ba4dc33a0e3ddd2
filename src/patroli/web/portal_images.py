"""Screenshot sanitising for public reports: real type check, limits, metadata removal.

``sanitize_image(data)`` decodes the upload with Pillow (the type comes from the bytes,
never the file name or the browser's MIME type), refuses anything that is not a JPEG,
PNG, WebP or GIF image, refuses files over ``MAX_IMAGE_BYTES`` and images over
``MAX_IMAGE_SIDE`` pixels on a side (checked from the header, before decoding the
pixels: no decompression bombs), applies the EXIF orientation, then re-encodes the
pixels into a fresh image: EXIF (GPS position, camera, time), XMP, ICC and text chunks
are all left behind. JPEG and WebP come out as JPEG, PNG and GIF as PNG (first frame).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ALLOWED_FORMATS", "MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE", "ImageRejected",
           "SanitizedImage", "sanitize_image"]

#: Largest accepted upload, in bytes.
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: Largest accepted width and height, in pixels.
MAX_IMAGE_SIDE = 4000
#: Pillow format names accepted.
ALLOWED_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP", "GIF"})


class ImageRejected(ValueError):
    """The upload is not an acceptable image; ``reason`` is "type", "size" or "dims"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SanitizedImage:
    """Re-encoded image bytes, MIME type ("image/jpeg" or "image/png"), size in pixels."""

    data: bytes
    mime: str
    width: int
    height: int


def sanitize_image(data: bytes) -> SanitizedImage:
    """Check and re-encode an uploaded image (see the module docstring).

    Raises ImageRejected: reason "size" (more than ``MAX_IMAGE_BYTES`` bytes), "type"
    (not a decodable JPEG / PNG / WebP / GIF), "dims" (a side over ``MAX_IMAGE_SIDE``).
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected("size", f"image of {len(data)} bytes exceeds {MAX_IMAGE_BYTES}")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("type", f"not an image: {exc}") from None
    if fmt not in ALLOWED_FORMATS:
        raise ImageRejected("type", f"image format {fmt!r} is not accepted")
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width < 1 or height < 1:
        raise ImageRejected("dims", f"image of {width}x{height} pixels exceeds "
                                    f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.seek(0)
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
                upright.mode == "P" and "transparency" in upright.info)
            pixels = upright.convert("RGBA" if has_alpha else "RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageRejected("type", f"image cannot be decoded: {exc}") from None
    # A fresh image holds the pixels only: no info dict, no EXIF, no ICC profile.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if fmt in ("JPEG", "WEBP") and clean.mode == "RGB":
        clean.save(out, "JPEG", quality=85, optimize=True)
        mime = "image/jpeg"
    else:
        clean.save(out, "PNG", optimize=True)
        mime = "image/png"
    return SanitizedImage(out.getvalue(), mime, clean.width, clean.height)
