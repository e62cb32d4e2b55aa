"""Evidence uploads: size- and type-checked by content (not by name), images re-encoded by Pillow so
that their metadata (EXIF with GPS and camera serials, XMP, comments) is dropped."""

from __future__ import annotations

import io
from pathlib import PurePath

from PIL import Image, ImageOps, UnidentifiedImageError

from ticketing.domain.errors import ValidationError

IMAGE_FORMATS = {"JPEG": ("jpg", "JPEG"), "PNG": ("png", "PNG"), "WEBP": ("webp", "WEBP")}
MAX_PIXELS = 40_000_000


def clean(filename: str, data: bytes, max_bytes: int) -> tuple[str, bytes]:
    """The stored name and content of one uploaded evidence file, or a one-line refusal."""
    name = PurePath(filename.replace("\\", "/")).name.strip() or "minh-chung"
    if not data:
        raise ValidationError(f"Tệp {name} rỗng / the file {name} is empty")
    if len(data) > max_bytes:
        raise ValidationError(
            f"Tệp {name} lớn hơn {max_bytes // 1_000_000} MB / the file {name} is larger than allowed"
        )
    if data.startswith(b"%PDF-"):
        return _named(name, "pdf"), data
    try:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            if fmt not in IMAGE_FORMATS:
                raise UnidentifiedImageError(fmt)
            img.load()
            upright = ImageOps.exif_transpose(img)
            out = io.BytesIO()
            ext, save_as = IMAGE_FORMATS[fmt]
            if save_as == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            # A fresh save carries no EXIF, XMP, ICC or text chunks unless asked to.
            upright.save(out, save_as, **({"quality": 90} if save_as != "PNG" else {}))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ValidationError(
            f"Tệp {name} không phải ảnh JPEG/PNG/WebP hay PDF / {name} is not a JPEG, PNG, WebP or PDF file"
        ) from None
    return _named(name, ext), out.getvalue()


def _named(name: str, ext: str) -> str:
    stem = PurePath(name).stem[:80] or "minh-chung"
    return f"{stem}.{ext}"
