"""Photos of the web form: type and size checked, decoded and re-encoded as JPEG so that no metadata
(EXIF, GPS position, camera serial) and no payload hidden in the original file survives."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_SIDE = 2560
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


class PhotoError(ValueError):
    """The upload is not an acceptable photo (message in Vietnamese, for the form)."""


@dataclass(frozen=True)
class CleanPhoto:
    filename: str
    data: bytes


def clean(data: bytes, name: str, index: int, max_bytes: int) -> CleanPhoto:
    """The photo re-encoded (JPEG, at most ``MAX_SIDE`` px, orientation applied, metadata dropped)."""
    if not data:
        raise PhotoError(f"Ảnh {name!r} trống")
    if len(data) > max_bytes:
        raise PhotoError(f"Ảnh {name!r} lớn hơn {max_bytes // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED:
                raise PhotoError(f"Tệp {name!r} không phải ảnh JPEG, PNG, WebP hoặc GIF")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoError(f"Ảnh {name!r} quá nhiều điểm ảnh")
            probe.load()
            image = ImageOps.exif_transpose(probe) or probe
            image = image.convert("RGB")
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise PhotoError(f"Tệp {name!r} không phải ảnh hợp lệ") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing is carried over
    return CleanPhoto(f"anh-{index}.jpg", out.getvalue())
