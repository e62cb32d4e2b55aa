"""Known Vosk models: name, download URL and, where pinned, the archive's sha256."""

from __future__ import annotations

from dataclasses import dataclass

VOSK_MODEL_SITE = "https://alphacephei.com/vosk/models"


@dataclass(frozen=True)
class ModelSpec:
    key: str
    dirname: str  # top-level folder inside the zip, and the folder name after unpacking
    url: str
    sha256: str  # "" when the publisher gives no checksum: the user must pin one (--sha256)
    approx_mb: int
    description: str


CATALOG: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="vi-small",
            dirname="vosk-model-small-vn-0.4",
            url=f"{VOSK_MODEL_SITE}/vosk-model-small-vn-0.4.zip",
            sha256="",
            approx_mb=32,
            description="Vietnamese, small (dynamic graph: supports per-slot grammars), 8/16 kHz",
        ),
        ModelSpec(
            key="vi",
            dirname="vosk-model-vn-0.4",
            url=f"{VOSK_MODEL_SITE}/vosk-model-vn-0.4.zip",
            sha256="",
            approx_mb=78,
            description="Vietnamese, larger and more accurate",
        ),
    )
}
