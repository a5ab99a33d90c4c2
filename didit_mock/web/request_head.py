"""The request headers every request needs, read once by the gateway and kept in the scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import Scope

from ..journal import kept

if TYPE_CHECKING:
    from ..domain.tenant import Tenant, TenantRegistry

#: The scope key under which the gateway leaves the request's `RequestHead`.
HEAD = "didit_mock.head"


@dataclass(slots=True)
class RequestHead:
    """`x-api-key`, `session-token`, `content-type` and `content-length`, stripped ("" when absent).

    `media_type` is the content type's lower-case `type/subtype`, without parameters.
    `body_head` and `body_size` are the request body as the app read it (its first bytes and its
    size), which the gateway fills in for the journal.

    `key_tenant` is the tenant of `api_key` (None for a refused key or no key) once `key_resolved`
    is set: `tenant_of_key` looks it up once per request, the gateway first.
    """

    api_key: str = ""
    session_token: str = ""
    content_type: str = ""
    media_type: str = ""
    content_length: str = ""
    key_resolved: bool = False
    key_tenant: Tenant | None = None
    body_head: bytes = b""
    body_size: int = 0

    @classmethod
    def of(cls, scope: Scope) -> RequestHead:
        """The request's `HEAD` entry, or one read from its headers (lower-case names, as ASGI gives)."""
        head = scope.get(HEAD)
        if head is not None:
            return head
        head = cls()
        for name, value in reversed(scope["headers"]):  # the first of repeated headers wins
            if name == b"x-api-key":
                head.api_key = value.decode("latin-1").strip()
            elif name == b"content-type":
                head.content_type = value.decode("latin-1")
                head.media_type = head.content_type.split(";", 1)[0].strip().lower()
            elif name == b"content-length":
                head.content_length = value.decode("latin-1").strip()
            elif name == b"session-token":
                head.session_token = value.decode("latin-1").strip()
        return head

    def body_read(self, chunk: bytes) -> None:
        """A chunk of the request body, as the app read it."""
        self.body_head = kept(self.body_head, chunk) if self.body_size else chunk
        self.body_size += len(chunk)

    def tenant_of_key(self, registry: TenantRegistry) -> Tenant | None:
        """The tenant of `api_key` (None for a refused key or no key), looked up once."""
        if not self.key_resolved:
            self.key_tenant = registry.get(self.api_key) if self.api_key else None
            self.key_resolved = True
        return self.key_tenant
