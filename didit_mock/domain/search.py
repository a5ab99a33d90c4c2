"""The `search` filter of the session list, with Didit's rules for what a term matches."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from .people import person_for

if TYPE_CHECKING:
    from .sessions import Session
    from .tenant import Tenant

_FULL_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def fold(text: str) -> str:
    """Lower-case without accents, so `Jose` finds `José`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def session_matches(tenant: Tenant, session: Session, term: str) -> bool:
    """Full UUID: the session id; digits: number prefix, document number, phone or vendor_data;
    `@`: email prefix; anything else: names (accent-insensitive) and vendor_data."""
    if _FULL_UUID.match(term):
        return session.session_id == term.lower()
    vendor = session.vendor_data or ""
    person = person_for(tenant, session) if session.outcomes is not None or session.expected_details else None
    if term.isdigit():
        if str(session.session_number).startswith(term) or term in vendor:
            return True
        if person is None:
            return False
        phone = (person.phone or "").lstrip("+")
        return person.document_number.startswith(term) or phone.startswith(term) or term in (person.phone or "")
    if "@" in term:
        email = (session.contact_details or {}).get("email") or (person.email if person else "") or ""
        return email.lower().startswith(term.lower())
    needle = fold(term)
    if needle in fold(vendor):
        return True
    return person is not None and needle in fold(person.full_name)
