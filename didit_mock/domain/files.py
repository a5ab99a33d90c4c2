"""Signed file links: `<base>/files/<application_id>/<key>?signature=...` (served by `didit_mock.downloads`).

The signature is an HMAC of the key under a secret derived from the tenant's API key, so a link
works without the key (as a presigned storage URL does), survives a restart with `--state-file`,
and does not expire. A key names the file's kind by its first segment (`cases/...`,
`regulatory-reports/...`, `customization/...`, `user-faces/...`); the download route resolves it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tenant import Tenant

#: Media types of the image files the API keeps, by extension.
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
               "ico": "image/x-icon"}


@dataclass(frozen=True)
class StoredFile:
    """A file as the download route answers it."""

    content: bytes
    media_type: str
    filename: str


def _secret(tenant: Tenant) -> bytes:
    return hashlib.sha256(b"didit-mock files:" + tenant.api_key.encode()).digest()


def signature(tenant: Tenant, key: str) -> str:
    return hmac.new(_secret(tenant), key.encode(), hashlib.sha256).hexdigest()[:32]


def verified(tenant: Tenant, key: str, given: str) -> bool:
    """Whether `given` is the signature of the tenant's `key`."""
    return hmac.compare_digest(signature(tenant, key), given)


def signed_url(base: str, tenant: Tenant, key: str) -> str:
    """The absolute URL of a file of the tenant's application, on the server at `base`."""
    return f"{base.rstrip('/')}/files/{tenant.application_id}/{key}?signature={signature(tenant, key)}"
