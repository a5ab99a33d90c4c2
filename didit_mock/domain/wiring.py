"""The cross-family consequences of one registry: hooks and policies wired per app, not per process.

A `TenantRegistry` owns one `Wiring`. The domain's own rules (the blocklist declines a match and
forgets a deleted session, the sandbox quota counts a new session, an OTP verification answers the
decision route) are in `domain_wiring()`; the app adds its edges' hooks (the scenario engine).
Two registries in one process never share a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .outcomes import FeatureOutcome
    from .sessions import NewSession, Session
    from .standalone.armed import Directive
    from .tenant import Tenant

SessionHook = Callable[["Tenant", "Session"], None]
#: (tenant, what a create asks for) -> None; raises to refuse the create (it may rewrite `workflow_id`).
SessionGuard = Callable[["Tenant", "NewSession"], None]
Policy = Callable[["Tenant", "Session", "dict[str, FeatureOutcome]"], None]
#: (tenant, request id) -> the decision of a verification that is not a KYC session, or None.
DecisionLookup = Callable[["Tenant", str], "dict[str, Any] | None"]
#: (tenant, endpoint, vendor_data) -> the outcome a rule chooses for a standalone call, or None.
StandaloneRule = Callable[["Tenant", str, "str | None"], "Directive | None"]
#: (tenant, stored transaction) -> a chosen verdict `{status, score?, reason_code?, reason_label?}`, or None.
TransactionOutcome = Callable[["Tenant", "dict[str, Any]"], "dict[str, Any] | None"]
#: (tenant, address, chain) -> a chosen screening profile, or None.
WalletProfile = Callable[["Tenant", str, str], "dict[str, Any] | None"]
#: (tenant, create-transaction body) -> the stored transaction, monitored with the tenant's rules.
TransactionSubmitter = Callable[["Tenant", "dict[str, Any]"], "dict[str, Any]"]


@dataclass
class Wiring:
    #: Called before a session is created; raising refuses it (a draft-only workflow, a blocked user).
    session_guards: list[SessionGuard] = field(default_factory=list)
    #: Called after every new session (the sandbox quota, scenario timelines, the user it belongs to).
    session_created: list[SessionHook] = field(default_factory=list)
    #: Called after a shared session is imported (the user it belongs to).
    session_imported: list[SessionHook] = field(default_factory=list)
    #: Called after a standalone API call is saved as a session (the user it belongs to).
    api_call_saved: list[SessionHook] = field(default_factory=list)
    #: Called when a session gets its outcome, before its status moves (a KYB workflow's company).
    session_finished: list[SessionHook] = field(default_factory=list)
    #: Called after a session is deleted (the blocklist hides its entries).
    session_deleted: list[SessionHook] = field(default_factory=list)
    #: Applied to every planned outcome (the blocklist declines a match).
    outcome_policies: list[Policy] = field(default_factory=list)
    #: Decisions of ids that are not KYC sessions (OTP verifications).
    decision_lookups: list[DecisionLookup] = field(default_factory=list)
    #: Outcomes of standalone calls no armed directive chose (scenario `standalone:` rules).
    standalone_rules: list[StandaloneRule] = field(default_factory=list)
    #: Verdicts chosen for new transactions (scenario rules).
    transaction_outcomes: list[TransactionOutcome] = field(default_factory=list)
    #: Screening results chosen for wallet addresses (scenario rules).
    wallet_profiles: list[WalletProfile] = field(default_factory=list)
    #: How a transaction another family creates (a Travel Rule deposit) is submitted (set by the app).
    transaction_submitter: TransactionSubmitter | None = None

    def add(self, hooks: list[Any], hook: Any) -> None:
        """Add `hook` to one of the lists, once."""
        if hook not in hooks:
            hooks.append(hook)


def attach_kyb_company(tenant: Tenant, session: Session) -> None:
    """A KYB workflow's finished session gets its company (`kyb.attach_company`, loaded for the first)."""
    if session.workflow.kyb_features:
        from .kyb import attach_company

        attach_company(tenant, session)


def otp_decision(tenant: Tenant, request_id: str) -> dict[str, Any] | None:
    """The decision of an OTP verification (`otp.render`, loaded with the first look-up)."""
    from .otp.render import verification_decision

    return verification_decision(tenant, request_id)


def domain_wiring() -> Wiring:
    """The domain's own cross-family rules."""
    from . import blocklist, lists, ratelimit, users, workflow_versions

    return Wiring(
        session_guards=[workflow_versions.guard_session, users.guard_session],
        session_created=[ratelimit.count_sandbox_session, users.record_session],
        session_imported=[users.record_session],
        api_call_saved=[users.record_session],
        session_finished=[attach_kyb_company],
        session_deleted=[blocklist.forget_deleted],
        outcome_policies=[blocklist.decline_blocklisted, lists.decline_listed],
        decision_lookups=[otp_decision],
    )
