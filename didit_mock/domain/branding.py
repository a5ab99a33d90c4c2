"""Branding (`PATCH /v3/customization/`): the rules of a change to an application's white-label look.

Colors are `#RRGGBB` or `#RRGGBBAA`; the custom domain and white-label e-mail fields belong to the
Business Console and are refused. An uploaded logo must have its aspect ratio (square 1:1,
rectangular 2:1); the favicon at most 500 KB. An accepted logo is kept by the web layer and answered
as the signed URL it is served at (`domain.files`); `delete_logo_square`, `delete_logo_rectangular`
and `delete_favicon` clear one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ValidationFailed

COLOR = re.compile(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})")
BAD_COLOR = "Invalid color format. Use '#RRGGBB' or '#RRGGBBAA' format."
CONSOLE_ONLY = ("domain", "from_email", "verify_domain", "force_remove_domain", "verify_email_domain",
                "force_remove_email_domain")
CONSOLE_MESSAGE = "Manage this field in the Business Console."
FAVICON_MAX_BYTES = 500 * 1024


@dataclass(frozen=True)
class Logo:
    """An image field of the upload and where the branding shows it."""

    field: str
    shown_as: str
    ratio: tuple[int, int] | None


LOGOS = (Logo("image_square", "logo_square", (1, 1)), Logo("image_rectangular", "logo_rectangular", (2, 1)),
         Logo("image_favicon", "favicon", None))
DELETES = {"delete_logo_square": "logo_square", "delete_logo_rectangular": "logo_rectangular",
           "delete_favicon": "favicon"}


@dataclass(frozen=True)
class Upload:
    """An uploaded logo as the web layer read it."""

    width: int
    height: int
    size: int
    digest: str
    extension: str
    data: bytes = b""


def refuse_console_fields(raw: dict[str, Any]) -> None:
    """400 for the fields only the Business Console sets (checked before the schema drops them)."""
    found = {name: [CONSOLE_MESSAGE] for name in CONSOLE_ONLY if name in raw}
    if found:
        raise ValidationFailed(found)


#: The weights a font family offers (the mock's fonts all have the nine of the CSS scale), by
#: number and by name.
FONT_WEIGHTS = ("100", "200", "300", "400", "500", "600", "700", "800", "900")
WEIGHT_NAMES = ("thin", "extralight", "light", "regular", "normal", "medium", "semibold", "bold", "extrabold",
                "black")


def changes(values: dict[str, Any], uploads: dict[str, Upload], font_family: str = "Inter") -> dict[str, Any]:
    """The branding fields a valid update sets, or Didit's 400 naming every bad field.

    `font_family` is the family kept so far (the update may change it too). A logo field of an
    accepted upload is not set here: the caller keeps the file and sets its URL (`accepted`).
    """
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    family = values.get("font_family") or font_family
    for name, value in values.items():
        if name in DELETES:
            if value is True:
                result[DELETES[name]] = None
        elif name.startswith("color_") and isinstance(value, str) and not COLOR.fullmatch(value):
            errors[name] = [BAD_COLOR]
        elif name == "font_weight" and isinstance(value, str) \
                and value.lower() not in FONT_WEIGHTS + WEIGHT_NAMES:
            errors[name] = [f"Font weight {value} is not available for {family}. "
                            f"Available weights are: {', '.join(FONT_WEIGHTS)}"]
        else:
            result[name] = value
    for logo in LOGOS:
        upload = uploads.get(logo.field)
        if upload is None:
            continue
        problem = _problem(logo, upload)
        if problem:
            errors[logo.field] = [problem]
        else:
            result.pop(logo.shown_as, None)  # the upload wins over a delete flag of the same logo
    if errors:
        raise ValidationFailed(errors)
    return result


def accepted(uploads: dict[str, Upload]) -> list[tuple[Logo, Upload]]:
    """The uploaded logos of an update `changes` accepted, with where each is shown."""
    return [(logo, uploads[logo.field]) for logo in LOGOS if logo.field in uploads]


def _problem(logo: Logo, upload: Upload) -> str | None:
    if logo.ratio is None:
        return "File size should not exceed 500 KB" if upload.size > FAVICON_MAX_BYTES else None
    wide, high = logo.ratio
    if upload.width * high != upload.height * wide:
        return f"Image aspect ratio must be {wide}:{high}. Got {upload.width}x{upload.height} image dimensions"
    return None
