"""Faces uploaded to a User profile (`.../vendor-users/by-id/{didit_internal_id}/faces/upload/`).

An uploaded face is trusted: it is kept on the user (at most `MAX_FACES`) and enrolled in the
tenant's face index, where a face search finds it as an `imported` match; it is never blocklisted.
It is the same face as a searched image when both show the same person (a fixture's person, the
user's vendor_data) or are the same bytes. A deleted user's faces leave the index.

The uploaded bytes are kept (base64 in the state document) and served at the face's signed
`image_url` (`domain.files`) until the user is deleted.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import files
from .errors import NotFound, ValidationFailed
from .standalone.images import ImageFacts

if TYPE_CHECKING:
    from .tenant import Tenant
    from .users import Entity

MAX_FACES = 5
MAX_IMAGE_BYTES = 2 * 1024 * 1024
NO_FACE = "No face detected in the image. Please upload a clear photo with a visible face."
TOO_MANY = "Maximum of 5 faces per user reached."
TOO_LARGE = "Image exceeds maximum size of 2 MB."
NOT_BASE64 = "Invalid base64 image. Send the raw base64 of a JPG or PNG file, without a data: prefix."
NOT_AN_IMAGE = "Invalid image. Upload a JPG or PNG image."


@dataclass
class UserFace:
    uuid: str
    user_id: str
    identity: str
    digest: str
    comment: str
    created_at: float
    #: The uploaded image (base64) and its media type; empty in a state document of an earlier server.
    content: str = ""
    media_type: str = ""

    @property
    def key(self) -> str:
        """The face's file key (`domain.files`)."""
        return f"user-faces/{self.uuid}.{'png' if self.media_type == 'image/png' else 'jpg'}"

    def view(self, tenant: Tenant) -> dict[str, Any]:
        return {"uuid": self.uuid, "image_url": image_url(tenant, self), "comment": self.comment,
                "uploaded_by": "api", "created_at": _iso(self.created_at)}


class FaceBook:
    """A tenant's uploaded faces, in upload order."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.faces: list[UserFace] = []

    def of(self, user_id: str) -> list[UserFace]:
        return [f for f in self.faces if f.user_id == user_id]


def book(tenant: Tenant) -> FaceBook:
    return tenant.component(FaceBook)


def image_url(tenant: Tenant, face: UserFace) -> str:
    """The signed URL the face's image is served at (on the tenant's public base URL)."""
    return files.signed_url(tenant.config.public_base_url, tenant, face.key)


def face_file(tenant: Tenant, key: str) -> files.StoredFile | None:
    """The image of a live user's uploaded face, by its file key, or None."""
    from .users import USER
    from .users import book as entities

    users = entities(tenant).entities[USER]
    face = next((f for f in book(tenant).faces if f.key == key), None)
    if face is None or not face.content or face.user_id not in users:
        return None
    return files.StoredFile(base64.b64decode(face.content), face.media_type, key.rsplit("/", 1)[-1])


def forget(tenant: Tenant, user_ids: list[str]) -> None:
    """Drop the faces (and images) of deleted users."""
    gone = set(user_ids)
    faces = book(tenant)
    faces.faces = [f for f in faces.faces if f.user_id not in gone]


def decode(image: Any) -> bytes:
    """The bytes of the `image` field: raw base64 (400 naming the field otherwise; at most 2 MB)."""
    text = image.strip() if isinstance(image, str) else ""
    if not text or text.startswith("data:"):
        raise ValidationFailed.field("image", NOT_BASE64, as_list=False)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("image", NOT_BASE64, as_list=False) from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed.field("image", TOO_LARGE, as_list=False)
    return data


def user_by_id(tenant: Tenant, didit_internal_id: str) -> Entity:
    from .users import USER
    from .users import book as entities

    found = entities(tenant).entities[USER].get(didit_internal_id.lower())
    if found is None:
        raise NotFound()
    return found


def check_room(tenant: Tenant, user: Entity) -> None:
    if len(book(tenant).of(user.didit_internal_id)) >= MAX_FACES:
        raise ValidationFailed.detail(TOO_MANY)


def upload(tenant: Tenant, user: Entity, image: ImageFacts, data: bytes, comment: str) -> UserFace:
    """Keep the face (and its bytes, a JPG or PNG) on the user and enroll it in the face index (a tiny
    image shows no face)."""
    check_room(tenant, user)
    if not image.usable or image.scenario == "no_face":
        raise ValidationFailed.field("image", NO_FACE, as_list=False)
    media_type = files.IMAGE_TYPES["png"] if data.startswith(b"\x89PNG") else files.IMAGE_TYPES["jpg"]
    face = UserFace(tenant.rng.uuid4(), user.didit_internal_id, image.identity(user.vendor_data), image.digest,
                    comment, tenant.clock.timestamp(), base64.b64encode(data).decode("ascii"), media_type)
    book(tenant).faces.append(face)
    return face


def matches(tenant: Tenant, identity: str, digest: str) -> list[tuple[UserFace, Entity]]:
    """The uploaded faces of live users that show the searched face, newest first."""
    from .users import USER
    from .users import book as entities

    users = entities(tenant).entities[USER]
    found = []
    for face in reversed(book(tenant).faces):
        user = users.get(face.user_id)
        if user is not None and (face.identity == identity or face.digest == digest):
            found.append((face, user))
    return found


def search_match(tenant: Tenant, face: UserFace, user: Entity, similarity: float) -> dict[str, Any]:
    """A face search's `matches[]` item for an uploaded face (`source: imported`)."""
    from .users import entity_json

    full_name = entity_json(tenant, user, detail=False).get("full_name")
    return {
        "session_id": None, "session_number": None, "similarity_percentage": similarity, "source": "imported",
        "vendor_data": user.vendor_data, "vendor_user_id": user.didit_internal_id, "biometric_template_id": None,
        "verification_date": datetime.fromtimestamp(face.created_at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user_details": {"full_name": full_name, "document_type": None, "document_number": None},
        "match_image_url": image_url(tenant, face), "status": None, "is_blocklisted": False,
        "is_allowlisted": False, "api_service": None,
    }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- persistence

def state_section() -> Any:
    """The uploaded faces' section of the state document (`extensions.user_faces`)."""
    from .state import StateInvalid, StateSection

    def export(tenant: Tenant) -> list[dict[str, Any]]:
        return [asdict(f) for f in book(tenant).faces]

    def parse(value: Any, path: str) -> list[UserFace]:
        if not isinstance(value, list):
            raise StateInvalid(f"{path}: a list is expected.")
        try:
            return [UserFace(**item) for item in value]
        except TypeError as problem:
            raise StateInvalid(f"{path}: {problem}") from None

    def restore(tenant: Tenant, faces: list[UserFace]) -> None:
        book(tenant).faces = list(faces)

    return StateSection("user_faces", export, parse, restore)
