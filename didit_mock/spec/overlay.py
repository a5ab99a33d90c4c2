"""What the OpenAPI documents cannot say, per operation: family, auth profile, rate scope, extras.

Everything here is data. The families group operations by their tag (the spec's own grouping)
or by path for the additions; `OPERATION_OVERRIDES` names the few operations that differ from
their family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .operation import Operation

PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}


@dataclass(frozen=True)
class AuthProfile:
    """Who may call an operation, and what a caller without a usable credential is answered.

    `credential` is the header carrying it: `x-api-key` (a tenant's key), `x-transaction-token`,
    `authorization` (a Bearer token of the auth API), or None (a public operation).
    `docs_mode_refused` is the answer to a refused API key while the server follows the docs
    (`auth_mode = "docs"`): the session API's 401 "Invalid API Key.", where the spec says 403.
    """

    name: str
    credential: str | None = "x-api-key"
    missing: tuple[int, dict[str, Any]] = (403, PERMISSION_DENIED)
    refused: tuple[int, dict[str, Any]] = (403, PERMISSION_DENIED)
    docs_mode_refused: tuple[int, dict[str, Any]] | None = None


INVALID_API_KEY = {"detail": "Invalid API Key."}
CREDENTIALS_INVALID = {"detail": "Authentication credentials were not provided or are invalid."}
AUTH_PROFILES: dict[str, AuthProfile] = {p.name: p for p in (
    # The session API: missing key 403; a refused key 401 per the docs (403 in the spec's mode).
    AuthProfile("session", docs_mode_refused=(401, INVALID_API_KEY)),
    # Share and import: 401 for a missing or refused key (didit-api.md §8).
    AuthProfile("session-401", missing=(401, CREDENTIALS_INVALID), refused=(401, CREDENTIALS_INVALID)),
    # Standalone APIs, workflows, questionnaires, customization, businesses, billing, transactions,
    # imports, biometric templates, console routes: 403 for anything but an accepted key.
    AuthProfile("api-key"),
    AuthProfile("users", missing=(401, {
        "detail": "You must be authenticated with a valid access token to access this endpoint."})),
    AuthProfile("face-upload", missing=(401, NOT_PROVIDED), refused=(401, NOT_PROVIDED)),
    # AML monitoring and wallet screening answer 401 (body UNCONFIRMED: DRF's default text).
    AuthProfile("api-key-401", missing=(401, NOT_PROVIDED), refused=(401, NOT_PROVIDED)),
    AuthProfile("sdk-token", missing=(403, INVALID_API_KEY), refused=(403, INVALID_API_KEY)),
    # Session extras (§1.26): a refused key is 403 with the "not provided or invalid" text.
    AuthProfile("session-extras", refused=(403, CREDENTIALS_INVALID)),
    AuthProfile("transaction-token", credential="x-transaction-token",
                missing=(401, {"detail": "Invalid transaction token."}),
                refused=(401, {"detail": "Invalid transaction token."})),
    # The hosted flow's own calls carry the session's `Session-Token` (the handler checks it).
    AuthProfile("session-token", credential="session-token",
                missing=(403, CREDENTIALS_INVALID), refused=(404, {"detail": "Not found."})),
    AuthProfile("bearer", credential="authorization", missing=(401, NOT_PROVIDED),
                refused=(401, {"detail": "Given token not valid for any token type"})),
    AuthProfile("public", credential=None),
)}


@dataclass(frozen=True)
class Family:
    """A group of operations documented together (`docs/<page>.md`), with their defaults."""

    name: str
    title: str
    auth: str = "api-key"
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    page: str | None = None


FAMILIES: tuple[Family, ...] = (
    Family("system", "System", auth="public", tags=("System",)),
    Family("sessions", "Sessions", auth="session", tags=("Sessions",), page="lifecycle"),
    Family("otp", "Phone and email OTP", auth="session", page="otp"),
    Family("standalone", "Standalone verification APIs", tags=("Standalone APIs",), page="standalone"),
    Family("workflows", "Workflows", tags=("Workflows",)),
    Family("questionnaires", "Questionnaires", tags=("Questionnaires",)),
    Family("users", "Users", auth="users", tags=("Users",)),
    Family("businesses", "Businesses", tags=("Businesses",)),
    Family("aml-monitoring", "AML ongoing monitoring", auth="api-key-401", tags=("AML Ongoing Monitoring",)),
    Family("billing", "Billing", tags=("Billing",)),
    Family("webhooks", "Webhooks", auth="session", tags=("Webhook",), paths=("/v3/webhook/",), page="webhooks"),
    Family("blocklist", "Blocklist", auth="session", paths=("/v3/blocklist/",), page="blocklist"),
    Family("lists", "Lists", auth="session", paths=("/v3/lists/",)),
    Family("customization", "Customization", tags=("Customization",)),
    Family("transactions", "Transactions and wallet screening", tags=("Transactions",)),
    Family("travel-rule", "Travel Rule", tags=("Travel Rule",)),
    Family("cases", "Cases and case blueprints", tags=("Cases", "Case Blueprints"), page="cases"),
    Family("reports", "Regulatory reports and report templates", tags=("Regulatory Reports", "Report Templates")),
    Family("networks", "Networks", tags=("Networks",)),
    Family("biometric-templates", "Biometric templates", tags=("Biometric Templates",)),
    Family("auth", "Auth API (programmatic sign-up)", auth="public", paths=("/auth/v2/",)),
)


@dataclass(frozen=True)
class Override:
    """How one operation differs from its family."""

    family: str | None = None
    auth: str | None = None
    #: The rate-limit scope of the operation, before the per-method generic scope.
    rate: str | None = None
    #: Request fields whose content is the caller's own JSON (not checked for NUL characters).
    free_form: tuple[str, ...] = ()
    #: Extra path templates served by the same operation (Django URLconf aliases).
    aliases: tuple[str, ...] = ()


OPERATION_OVERRIDES: dict[str, Override] = {
    "get_v3_session_decision": Override(family="sessions", rate="decision"),
    "post_v3_session_create": Override(rate="session-create"),
    "get_v3_session_generate_pdf": Override(rate="generate-pdf", aliases=("/v3/session/{sessionId}/generate-pdf",)),
    "get_user_generate_pdf": Override(rate="generate-pdf", aliases=("/v3/users/{vendor_data}/generate-pdf",)),
    "patch_v3_session_update_data": Override(rate="kyc-data-update"),
    "patch_v3_session_update_poa_data": Override(rate="poa-data-update"),
    "patch_v3_session_update_feature_status": Override(auth="session-extras"),
    "patch_v3_session_update_aml_hit_status": Override(auth="session-extras"),
    "patch_v3_session_bulk_update_aml_hit_status": Override(auth="session-extras"),
    "patch_v3_session_kyb_company_update_data": Override(auth="session-extras"),
    "patch_v3_session_kyb_party_update": Override(auth="session-extras"),
    "post_v3_session_share": Override(auth="session-401"),
    "post_v3_session_imports_create": Override(family="imports", auth="api-key"),
    "get_v3_session_imports_template": Override(family="imports", auth="api-key"),
    "get_v3_session_imports_retrieve": Override(family="imports", auth="api-key"),
    "get_v3_session_imports_errors": Override(family="imports", auth="api-key"),
    "post_v3phone_send": Override(family="otp"),
    "post_v3phone_check": Override(family="otp"),
    "post_v3email_send": Override(family="otp"),
    "post_v3email_check": Override(family="otp"),
    "upload_user_face": Override(auth="face-upload"),
    "toggle_vendor_users_ongoing_monitoring": Override(family="aml-monitoring"),
    "get_vendor_users_ongoing_monitoring_job": Override(family="aml-monitoring"),
    "toggle_vendor_businesses_ongoing_monitoring": Override(family="aml-monitoring"),
    "get_vendor_businesses_ongoing_monitoring_job": Override(family="aml-monitoring"),
    "toggle_business_sessions_ongoing_monitoring": Override(family="aml-monitoring"),
    "get_business_sessions_ongoing_monitoring_job": Override(family="aml-monitoring"),
    "screenWallet": Override(auth="api-key-401"),
    "screenWalletPdf": Override(auth="api-key-401"),
    "createTransaction": Override(rate="ingest-write"),
    "createTransactionSdkToken": Override(auth="sdk-token"),
    "submitTransactionFromSdk": Override(auth="transaction-token"),
    "getTransactionFromSdk": Override(auth="transaction-token"),
    "getTravelRulePickup": Override(auth="public"),
    "respondTravelRulePickup": Override(auth="public"),
    "getTravelRuleWidgetContext": Override(auth="public"),
    "auth_list_organizations": Override(auth="bearer"),
    "auth_list_applications": Override(auth="bearer"),
    "auth_get_application": Override(auth="bearer"),
}

#: Request fields holding the caller's own JSON in every operation.
FREE_FORM_FIELDS: frozenset[str] = frozenset({"metadata"})
#: Families added by the overlay that no tag names (their operations are listed in overrides).
EXTRA_FAMILIES = (Family("imports", "Session imports"),)


#: Security schemes of the spec that name their own auth profile.
_SCHEME_PROFILES = {"SessionTokenAuth": "session-token", "TransactionTokenAuth": "transaction-token",
                    "BearerAuth": "bearer"}


@dataclass(frozen=True)
class Placement:
    """The overlay's answer for one operation."""

    family: Family
    auth: AuthProfile
    rate: str | None
    free_form: frozenset[str]
    aliases: tuple[str, ...] = field(default=())


#: Every family by its name (read-only).
FAMILIES_BY_NAME: Mapping[str, Family] = MappingProxyType({f.name: f for f in (*FAMILIES, *EXTRA_FAMILIES)})


def family_of(operation: Operation) -> Family:
    override = OPERATION_OVERRIDES.get(operation.operation_id)
    if override is not None and override.family is not None:
        return FAMILIES_BY_NAME[override.family]
    for family in FAMILIES:
        if any(tag in family.tags for tag in operation.tags):
            return family
    for family in FAMILIES:
        if any(operation.path.startswith(prefix) for prefix in family.paths):
            return family
    raise LookupError(f"no family for {operation.operation_id} ({operation.method} {operation.path})")


def place(operation: Operation) -> Placement:
    """The family, auth profile, rate scope and free-form fields of `operation`."""
    family = family_of(operation)
    override = OPERATION_OVERRIDES.get(operation.operation_id) or Override()
    auth = override.auth or family.auth
    if override.auth is None and operation.security is not None:
        if not operation.security:
            auth = "public"
        elif operation.security[0] in _SCHEME_PROFILES:
            auth = _SCHEME_PROFILES[operation.security[0]]
    return Placement(
        family=family,
        auth=AUTH_PROFILES[auth],
        rate=override.rate,
        free_form=frozenset((*FREE_FORM_FIELDS, *override.free_form)),
        aliases=override.aliases,
    )
