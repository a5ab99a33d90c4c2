"""What the mock reads from an uploaded image: its size, its digest and a fixture's marker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Smaller than this in either dimension, an image shows no face and no document (Didit's 1x1 PNG).
MIN_USABLE_PX = 32


@dataclass(frozen=True)
class ImageFacts:
    """An uploaded image, decoded by the web layer."""

    width: int
    height: int
    digest: str  # SHA-256 of the bytes, hex
    marker: dict[str, Any] | None = None  # the `didit-mock` marker of a fixture image

    @property
    def usable(self) -> bool:
        return self.width >= MIN_USABLE_PX and self.height >= MIN_USABLE_PX

    @property
    def scenario(self) -> str | None:
        found = (self.marker or {}).get("scenario")
        return found if isinstance(found, str) else None

    def identity(self, vendor_data: str | None) -> str:
        """Whose face or document this is: a fixture's person, the caller's vendor_data, or the bytes."""
        person = (self.marker or {}).get("person")
        if isinstance(person, str) and person:
            return "vendor:" + person
        if vendor_data is not None:
            return "vendor:" + vendor_data
        return "image:" + self.digest[:16]
