"""The hosted verification page behind a session's `url`: a person (or a browser test) picks the outcome.

`GET /session/{token}` and `GET /{language}/session/{token}` show the workflow's steps and the outcome
choices; opening the page moves a Not Started (or Resubmitted) session to In Progress. A plain form
`POST` to the same path finishes the session through the same domain function as
`POST /_mock/sessions/{id}/complete`, then redirects (303) to the session's callback with
`verificationSessionId` and `status` appended, as Didit does. The browser that completes the flow is
also the one that started it, so every `callback_method` (initiator, completer, both) redirects.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain import sessions as sessions_domain
from ..domain import statuses as st
from ..domain import workflows as wf
from ..domain.errors import DiditError, HtmlNotFound
from ..domain.languages import LANGUAGES
from ..domain.outcomes import (
    DEFAULT_DECLINE_ORDER,
    DEFAULT_REVIEW_ORDER,
    DEFAULT_RISKS,
    RISKS,
    canonical_step,
    sandbox_scenario,
)
from ..domain.sessions import Session
from ..domain.tenant import Tenant
from ..web.auth import registry_of
from ..web.templating import favicon, templates

# ---------------------------------------------------------------- presentation tables

#: Feature -> (step title, what the user does in that step).
STEP_NAMES: dict[str, tuple[str, str]] = {
    wf.ID_VERIFICATION: ("ID document", "Photograph the front and back of an identity document."),
    wf.NFC: ("NFC chip", "Tap the passport or ID card chip against the phone."),
    wf.LIVENESS: ("Liveness check", "Take a short selfie video to prove a live person is present."),
    wf.FACE_MATCH: ("Face match", "The selfie is compared with the document portrait."),
    wf.AGE_ESTIMATION: ("Age estimation", "The age is estimated from the selfie."),
    wf.POA: ("Proof of address", "Upload a recent utility bill or bank statement."),
    wf.PHONE: ("Phone verification", "Confirm a one-time code sent by SMS."),
    wf.EMAIL_VERIFICATION: ("Email verification", "Confirm a one-time code sent by email."),
    wf.QUESTIONNAIRE: ("Questionnaire", "Answer a few questions."),
    wf.DATABASE_VALIDATION: ("Database validation", "The personal data is checked against a government database."),
    wf.AML: ("AML screening", "The person is screened against sanctions and PEP lists."),
    wf.IP_ANALYSIS: ("IP analysis", "The device location and connection are analysed."),
    wf.KYB_REGISTRY: ("Company registry", "Find the company in its business registry."),
    wf.KYB_DOCUMENTS: ("Company documents", "Upload the company's incorporation and address documents."),
    wf.KYB_KEY_PEOPLE: ("Key people", "The company's officers and owners are checked."),
}

#: Feature -> the risks the page offers as decline / review reasons (the default risks first).
FEATURE_RISKS: dict[str, tuple[str, ...]] = {
    wf.ID_VERIFICATION: ("DOCUMENT_EXPIRED", "MRZ_VALIDATION_FAILED", "COULD_NOT_RECOGNIZE_DOCUMENT",
                         "MINIMUM_AGE_NOT_MET", "ID_DOCUMENT_IN_BLOCKLIST"),
    wf.NFC: ("NFC_CHIP_NOT_VERIFIED", "DATA_INCONSISTENT"),
    wf.LIVENESS: ("LIVENESS_FACE_ATTACK", "LOW_LIVENESS_SCORE", "FACE_IN_BLOCKLIST"),
    wf.FACE_MATCH: ("LOW_FACE_MATCH_SIMILARITY",),
    wf.AGE_ESTIMATION: ("MINIMUM_AGE_NOT_MET",),
    wf.POA: ("POA_ADDRESS_MISMATCH", "POA_PARTIAL_MATCH"),
    wf.PHONE: ("HIGH_RISK_PHONE_NUMBER", "VOIP_NUMBER_DETECTED", "PHONE_NUMBER_IN_BLOCKLIST"),
    wf.EMAIL_VERIFICATION: ("DISPOSABLE_EMAIL_DETECTED", "EMAIL_IN_BLOCKLIST"),
    wf.QUESTIONNAIRE: ("QUESTIONNAIRE_ANSWER_FLAGGED",),
    wf.DATABASE_VALIDATION: ("DATABASE_NO_MATCH", "DATABASE_PARTIAL_MATCH"),
    wf.AML: ("POSSIBLE_MATCH_FOUND",),
    wf.IP_ANALYSIS: ("IP_IN_BLOCKLIST", "VPN_OR_TOR_DETECTED"),
    wf.KYB_REGISTRY: ("KYB_REGISTRY_MISMATCH",),
    wf.KYB_DOCUMENTS: ("KYB_DOCUMENTS_DECLINED", "KYB_DOCUMENTS_IN_REVIEW"),
    wf.KYB_KEY_PEOPLE: ("KYB_KEY_PEOPLE_DECLINED", "KYB_KEY_PEOPLE_IN_REVIEW"),
}

#: Form `outcome` value -> the status finish_session is called with (None: the sandbox scenario's).
OUTCOMES: dict[str, str | None] = {
    "approve": st.APPROVED,
    "decline": st.DECLINED,
    "review": st.IN_REVIEW,
    "abandon": st.ABANDONED,
    "scenario": None,
}
#: Didit's status strings are accepted as outcomes too (handy from curl).
OUTCOME_ALIASES = {st.APPROVED.lower(): "approve", st.DECLINED.lower(): "decline",
                   st.IN_REVIEW.lower(): "review", st.ABANDONED.lower(): "abandon", "finish": "scenario"}

#: Statuses in which the page still offers the verification flow.
OPEN_STATUSES = (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED)

FINISHED_MESSAGES = {
    st.APPROVED: "Your identity has been verified.",
    st.DECLINED: "Your verification could not be approved.",
    st.IN_REVIEW: "Your verification is being reviewed by our team.",
    st.ABANDONED: "This verification was abandoned before it was finished.",
    st.EXPIRED: "This verification link has expired.",
    st.KYC_EXPIRED: "This verification has expired; a new one is needed.",
    st.AWAITING_USER: "This verification is waiting for other people to finish theirs.",
}


def page_steps(session: Session) -> list[str]:
    """The steps the page shows and takes reasons for: the KYB steps with an outcome first, then the KYC ones."""
    workflow = session.workflow
    return [*(f for f in workflow.kyb_features if f in wf.KYB_OUTCOME_FEATURES), *workflow.features]


def step_title(feature: str) -> str:
    return STEP_NAMES.get(feature, (feature.replace("_", " ").capitalize(), ""))[0]


def risk_title(risk: str) -> str:
    return RISKS.get(risk, (risk.replace("_", " ").capitalize(), ""))[0]


# ---------------------------------------------------------------- routing and templates

class LanguageConvertor(Convertor[str]):
    """A path segment that is one of Didit's 54 UI language codes (anything else is not routed)."""

    regex = "|".join(re.escape(code) for code in sorted(LANGUAGES, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("didit_language", LanguageConvertor())


# ---------------------------------------------------------------- handlers

@dataclass
class Choice:
    """A validated form submission: the status to finish with and per-feature choices."""

    status: str | None
    features: dict[str, Any] | None


class BadSubmission(Exception):
    """The form asked for something the page does not offer (rendered as a 400 page)."""


class SessionMissing(Exception):
    """No session has this token (never created, deleted or reset)."""


def find_session(request: Request) -> tuple[Tenant, Session]:
    """The tenant and session of the path's token, with the tenant's due jobs run."""
    language = request.path_params.get("language")
    if language is not None and language not in LANGUAGES:
        raise HtmlNotFound(language)
    token = request.path_params["token"]
    tenant = registry_of(request).by_token(token)
    session = None
    if tenant is not None:
        tenant.tick()
        with tenant.lock:
            session = sessions_domain.book(tenant).by_token.get(token)
    if tenant is None or session is None:
        raise SessionMissing(token)
    return tenant, session


async def hosted_page(request: Request) -> Response:
    """GET shows the flow (starting the session) or the finished page; POST finishes the session."""
    try:
        tenant, session = find_session(request)
    except SessionMissing:
        return error_page(request, 404, "Verification not found",
                          "This verification link is not valid. It may have been deleted or never existed.")
    if request.method == "POST":
        return await submit(request, tenant, session)
    with tenant.lock:
        if request.method == "GET" and session.status in (st.NOT_STARTED, st.RESUBMITTED):
            sessions_domain.start_session(tenant, session)
        if session.status not in OPEN_STATUSES:
            return finished_page(request, tenant, session, just_finished=False)
        return page(request, "hosted/flow.html", flow_context(request, tenant, session))


async def submit(request: Request, tenant: Tenant, session: Session) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=20)
    except HTTPException:  # a malformed body, or one with files: treated as an empty submission (400 below)
        form = FormData()
    with tenant.lock:
        if session.status not in OPEN_STATUSES:
            return finished_page(request, tenant, session, just_finished=False)
        try:
            choice = parse_choice(session, form)
            sessions_domain.finish_session(tenant, session, choice.status, choice.features)
        except BadSubmission as exc:
            return bad_request(request, str(exc))
        except DiditError as exc:
            return bad_request(request, error_text(exc.body))
        if navigable_callback(session):
            return RedirectResponse(callback_url(session), status_code=303)
        return finished_page(request, tenant, session, just_finished=True)


def parse_choice(session: Session, form: FormData) -> Choice:
    """Validate the form's `outcome`, `feature` and `risk` (or `reason` = "FEATURE:RISK")."""
    raw_outcome = str(form.get("outcome") or "").strip()
    outcome = OUTCOME_ALIASES.get(raw_outcome.lower(), raw_outcome.lower())
    if outcome not in OUTCOMES:
        shown = raw_outcome or "(none)"
        raise BadSubmission(f'"{shown}" is not a valid outcome. Choose one of: {", ".join(OUTCOMES)}.')
    status = OUTCOMES[outcome]
    reason = str(form.get("reason") or "")
    reason_feature, _, reason_risk = reason.partition(":")
    feature_name = str(form.get("feature") or reason_feature).strip()
    risk = str(form.get("risk") or reason_risk).strip().upper()
    if status not in (st.DECLINED, st.IN_REVIEW) or not (feature_name or risk):
        return Choice(status, None)
    if not feature_name:
        raise BadSubmission("Choose the feature the reason applies to.")
    feature = canonical_step(feature_name)
    if feature is None or feature not in page_steps(session):
        steps = ", ".join(page_steps(session))
        raise BadSubmission(f'"{feature_name}" is not a step of this workflow. Choose one of: {steps}.')
    if risk and risk not in RISKS:
        raise BadSubmission(f'"{risk}" is not a known reason.')
    if not risk:
        decline_risk, review_risk = DEFAULT_RISKS[feature]
        risk = decline_risk if status == st.DECLINED else review_risk
    return Choice(status, {feature: {"status": status, "risk": risk}})


#: Callback schemes the page never redirects to nor links (they would run code in the page's origin).
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})


def navigable_callback(session: Session) -> bool:
    """Whether the session has a callback the browser may be sent to (custom app schemes included)."""
    if not session.callback:
        return False
    return urlsplit(session.callback.strip()).scheme.lower() not in UNSAFE_SCHEMES


def callback_url(session: Session) -> str:
    """The callback with `verificationSessionId` and `status` appended to any query it already has."""
    assert session.callback is not None
    added = f"verificationSessionId={quote(session.session_id, safe='')}&status={quote(session.status, safe='')}"
    # Plain string surgery rather than urlunsplit, which rewrites custom-scheme URLs such as myapp:///done.
    base, hash_mark, fragment = session.callback.partition("#")
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{separator}{added}{hash_mark}{fragment}"


# ---------------------------------------------------------------- rendering

def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = templates().TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status_code: int, title: str, message: str, back: bool = False) -> Response:
    context = {"title": title, "message": message, "status_code": status_code,
               "back_url": request.url.path if back else None}
    return page(request, "hosted/error.html", context, status_code=status_code)


def bad_request(request: Request, message: str) -> Response:
    """400: the submission was refused and nothing changed."""
    return error_page(request, 400, "Invalid choice", message, back=True)


def error_text(body: Any) -> str:
    """A DRF error body as one readable line."""
    if isinstance(body, dict):
        return " ".join(f"{error_text(v)}" if k in ("detail", "non_field_errors") else f"{k}: {error_text(v)}"
                        for k, v in body.items())
    if isinstance(body, list):
        return " ".join(error_text(item) for item in body)
    return str(body)


def session_context(request: Request, tenant: Tenant, session: Session) -> dict[str, Any]:
    return {
        "session": session,
        "sandbox": tenant.is_sandbox,
        "language": request.path_params.get("language") or session.language or "en",
        "workflow_label": session.workflow.label,
        "steps": [{"feature": f, "title": step_title(f), "hint": STEP_NAMES.get(f, ("", ""))[1]}
                  for f in page_steps(session)],
    }


def reason_groups(features: list[str]) -> list[dict[str, Any]]:
    """The reason select's groups: one per step (its title the group label), one option per risk.

    An option reads as the risk alone, so that the closed select shows all of it on a phone; a
    risk title that two steps share (Minimum age not met) names its step too.
    """
    offered = [(f, FEATURE_RISKS.get(f, DEFAULT_RISKS[f])) for f in features
               if f in FEATURE_RISKS or f in DEFAULT_RISKS]
    shared = Counter(risk_title(r) for _, risks in offered for r in risks)

    def option_text(feature: str, risk: str) -> str:
        title = risk_title(risk)
        return title if shared[title] == 1 else f"{title} — {step_title(feature)}"

    return [{"feature": f, "title": step_title(f),
             "risks": [{"value": f"{f}:{r}", "title": option_text(f, r)} for r in risks]}
            for f, risks in offered]


def flow_context(request: Request, tenant: Tenant, session: Session) -> dict[str, Any]:
    features = page_steps(session)
    reasons = reason_groups(features)
    scenario = sandbox_scenario(session.sandbox_scenario) if session.sandbox_scenario else None
    return {
        **session_context(request, tenant, session),
        "reasons": reasons,
        "decline_default": default_reason(features, DEFAULT_DECLINE_ORDER, 0),
        "review_default": default_reason(features, DEFAULT_REVIEW_ORDER, 1),
        "scenario": scenario,
        "scenario_reason": risk_title(scenario.risk) if scenario and scenario.risk else None,
    }


def default_reason(features: list[str], order: list[str], which: int) -> str | None:
    """The reason preselected in a select: what the domain picks for a plain decline (0) or review (1)."""
    feature = next((f for f in order if f in features), None)
    return f"{feature}:{DEFAULT_RISKS[feature][which]}" if feature is not None else None


def finished_page(request: Request, tenant: Tenant, session: Session, *, just_finished: bool) -> Response:
    results = [
        {"title": step_title(feature), "status": outcome.status,
         "reasons": [risk_title(w.risk) for w in outcome.warnings]}
        for feature, outcome in (session.outcomes or {}).items()
    ]
    return page(request, "hosted/finished.html", {
        **session_context(request, tenant, session),
        "just_finished": just_finished,
        "message": FINISHED_MESSAGES.get(session.status, ""),
        "results": results,
        "return_url": callback_url(session) if navigable_callback(session) else None,
    })


#: What the served OpenAPI document says of the icon route (merged by `api.openapi`).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/favicon.ico"): {"security": None, "summary": "The site icon (image/x-icon)", "responses": {200: None}},
}

routes = [
    Route("/favicon.ico", favicon, methods=["GET"], name="favicon"),
    Route("/session/{token}", hosted_page, methods=["GET", "POST"], name="hosted_page"),
    Route("/{language:didit_language}/session/{token}", hosted_page, methods=["GET", "POST"],
          name="hosted_page_language"),
]
