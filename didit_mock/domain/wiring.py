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
    from .sessions import Session
    from .tenant import Tenant

SessionHook = Callable[["Tenant", "Session"], None]
Policy = Callable[["Tenant", "Session", "dict[str, FeatureOutcome]"], None]
#: (tenant, request id) -> the decision of a verification that is not a KYC session, or None.
DecisionLookup = Callable[["Tenant", str], "dict[str, Any] | None"]
#: (tenant, stored transaction) -> a chosen verdict `{status, score?, reason_code?, reason_label?}`, or None.
TransactionOutcome = Callable[["Tenant", "dict[str, Any]"], "dict[str, Any] | None"]
#: (tenant, address, chain) -> a chosen screening profile, or None.
WalletProfile = Callable[["Tenant", str, str], "dict[str, Any] | None"]
#: (tenant, create-transaction body) -> the stored transaction, monitored with the tenant's rules.
TransactionSubmitter = Callable[["Tenant", "dict[str, Any]"], "dict[str, Any]"]


@dataclass
class Wiring:
    #: Called after every new session (the sandbox quota, scenario timelines).
    session_created: list[SessionHook] = field(default_factory=list)
    #: Called after a session is deleted (the blocklist hides its entries).
    session_deleted: list[SessionHook] = field(default_factory=list)
    #: Applied to every planned outcome (the blocklist declines a match).
    outcome_policies: list[Policy] = field(default_factory=list)
    #: Decisions of ids that are not KYC sessions (OTP verifications).
    decision_lookups: list[DecisionLookup] = field(default_factory=list)
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


def domain_wiring() -> Wiring:
    """The domain's own cross-family rules."""
    from . import blocklist, ratelimit
    from .otp.render import verification_decision

    return Wiring(
        session_created=[ratelimit.count_sandbox_session],
        session_deleted=[blocklist.forget_deleted],
        outcome_policies=[blocklist.decline_blocklisted],
        decision_lookups=[verification_decision],
    )
