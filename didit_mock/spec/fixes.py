"""Where a request schema of Didit's document differs from what Didit does: corrections, as data.

The request check (`web.validation`) compiles an operation's body schema and its query parameters
with these applied. Each fix names a property by dotted path (`[]` steps into an array's items;
a query fix names the parameter) and the keywords to set (None removes one; `nullable: True`
also admits null), with the reason. Rules no schema can say (a phone number's validity, a rule
across fields) are not here: they are the handler's `BodyRules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SchemaFix:
    path: str
    changes: dict[str, Any]
    reason: str


_NULL_FOR_UNSET = ("Didit's serializer takes null for an unset optional field (UNCONFIRMED: clients send null "
                   "for what they leave unset, and the mock has always accepted it)")
_BLANK = "DRF refuses a blank string (`allow_blank=False`) with its own message before any other check"


def _nullable(*paths: str) -> tuple[SchemaFix, ...]:
    return tuple(SchemaFix(path, {"nullable": True}, _NULL_FOR_UNSET) for path in paths)


_EXPECTED = ("first_name", "last_name", "date_of_birth", "nationality", "country", "id_country", "poa_country",
             "address", "identification_number", "ip_address", "expected_document_types", "company_name",
             "registry_country", "registration_number")
_SIGNALS = ("ip", "device_id", "device_platform", "device_model", "os_version", "app_version", "user_agent")
_MODEL_LIMIT = "Didit's model limits this field (the document omits the limit)"
_DJANGO_EMAIL = ("Didit checks an address with Django's EmailValidator after trimming it (DRF's EmailField); "
                 "the handler's rule does, where the checker's `email` format differs at the edges")

_RETENTION = ("face_retention_days", "face_retention_deadline", "instruction_id")

REQUEST_SCHEMA_FIXES: dict[str, tuple[SchemaFix, ...]] = {
    "delete_v3_session_by_id": _nullable(*_RETENTION),
    "batch_delete_sessions": (
        *_nullable(*_RETENTION, "session_numbers"),
        SchemaFix("session_numbers", {"minItems": None},
                  "with `delete_all: true` Didit ignores the list without checking it (didit-api.md §5.5); "
                  "otherwise the handler's rule refuses an empty one with the same message"),
        SchemaFix("session_numbers.[]", {"type": None, "pattern": None},
                  "Didit reads JSON numbers as digit strings and refuses any other item with one message under "
                  "the list (didit-api.md §5.5: \"All session_numbers must be numeric.\"), the handler's rule"),
    ),
    "patch_v3_session_update_status": (
        *_nullable("comment", "nodes_to_resubmit", "email_address"),
        SchemaFix("new_status", {"enum": None},
                  "Didit's field takes every session status and refuses those it cannot set with its own message "
                  "(didit-api.md §5.6: \"You can only update the status to ...\"), the handler's rule"),
        SchemaFix("nodes_to_resubmit.[].feature", {"enum": None},
                  "Didit's message lists the valid choices and it takes the feature aliases "
                  "(didit-api.md §5.6), the handler's rule"),
        SchemaFix("nodes_to_resubmit.[].node_id", {"maxLength": 255}, _MODEL_LIMIT),
        SchemaFix("email_address", {"format": None}, _DJANGO_EMAIL),
    ),
    "post_v3_session_create": (
        *_nullable("vendor_data", "callback", "language", "contact_details", "contact_details.email",
                   "contact_details.email_lang", "contact_details.phone", "expected_details",
                   *(f"expected_details.{name}" for name in _EXPECTED), "portrait_image", "sandbox_scenario"),
        SchemaFix("contact_details.email", {"format": None}, _DJANGO_EMAIL),
        SchemaFix("expected_details.first_name", {"maxLength": 255}, _MODEL_LIMIT),
        SchemaFix("expected_details.last_name", {"maxLength": 255}, _MODEL_LIMIT),
        SchemaFix("expected_details.address", {"maxLength": 1000}, _MODEL_LIMIT),
        SchemaFix("expected_details.identification_number", {"maxLength": 255}, _MODEL_LIMIT),
        SchemaFix("expected_details.expected_document_types.[]", {"enum": None},
                  "Didit reads the codes case-insensitively (didit-api.md §5.1); the handler's rule checks them"),
    ),
    "post_v3phone_send": (
        SchemaFix("phone_number", {"minLength": 1}, _BLANK),
        *_nullable("vendor_data", "options", "options.locale", "signals", *(f"signals.{n}" for n in _SIGNALS)),
    ),
    "post_v3phone_check": (
        SchemaFix("phone_number", {"minLength": 1}, _BLANK),
        SchemaFix("code", {"minLength": 1, "maxLength": None, "pattern": None},
                  "Didit answers a malformed code with one message of its own (didit-api.md §8.2: "
                  "\"Invalid code format. Enter 4 to 8 numeric digits.\"), which the handler's rule gives"),
    ),
    "post_v3email_send": (
        SchemaFix("email", {"minLength": 1, "format": None}, f"{_BLANK}; {_DJANGO_EMAIL}"),
        SchemaFix("options.locale", {"enum": None, "maxLength": None},
                  "Didit answers an unknown locale with its own message listing the locales (the handler's rule)"),
        *_nullable("vendor_data", "options", "signals", *(f"signals.{n}" for n in _SIGNALS)),
    ),
    "post_v3email_check": (
        SchemaFix("email", {"minLength": 1, "format": None}, f"{_BLANK}; {_DJANGO_EMAIL}"),
        SchemaFix("code", {"minLength": 1}, f"{_BLANK}; the code's format is the handler's rule (its own message)"),
    ),
    "patch_v3_session_update_feature_status": _nullable("comment"),
}

#: Query parameters whose document schema Didit does not follow, by operation and parameter (the
#: fix's path is empty: it is the parameter's own schema).
QUERY_PARAMETER_FIXES: dict[str, dict[str, SchemaFix]] = {
    "get_v3_sessions": {
        "session_kind": SchemaFix("", {"enum": None},
                                  "Didit reads it case-insensitively and answers its own message "
                                  "(didit-api.md §5.3); the handler checks it"),
        "api_service": SchemaFix("", {"enum": [
            "ID_VERIFICATION", "FACE_MATCH", "AGE_ESTIMATION", "FACE_SEARCH", "POA", "AML", "KYB_REGISTRY",
            "PASSIVE_LIVENESS", "DATABASE_VALIDATION", "PHONE_VERIFICATION", "EMAIL_VERIFICATION",
            "DOCUMENT_AI", "EMAIL_RISK", "PHONE_RISK", "IP_RISK"]},
            "Saved Document AI and risk-API calls are API sessions too, and the document's enum has no value "
            "for them (didit-api-families.md §1.0: PROPOSED DOCUMENT_AI, EMAIL_RISK, PHONE_RISK, IP_RISK)"),
    },
}


def request_schema_fixes(operation_id: str) -> tuple[SchemaFix, ...]:
    return REQUEST_SCHEMA_FIXES.get(operation_id, ())
