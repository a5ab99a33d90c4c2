"""The session PDF report: rendered from the decision payload with fpdf2, cached per revision.

The report mirrors what Didit's PDF shows (session status, the person's extracted data, one
section per feature with its warnings, and the review activity), in English, with a core font.
fpdf2 is imported lazily so that starting the server does not pay for it.
"""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import statuses as st
from .errors import PermissionDenied

if TYPE_CHECKING:
    from .sessions import Session

WRONG_STATUS = "You can only generate a PDF for sessions in review, declined, approved or kyc expired"

#: Decision arrays in report order, with their section titles.
FEATURE_SECTIONS = (
    ("id_verifications", "ID Verification"),
    ("nfc_verifications", "NFC"),
    ("liveness_checks", "Liveness"),
    ("face_matches", "Face Match"),
    ("email_verifications", "Email Verification"),
    ("phone_verifications", "Phone Verification"),
    ("poa_verifications", "Proof of Address"),
    ("questionnaire_responses", "Questionnaire"),
    ("database_validations", "Database Validation"),
    ("document_ai_documents", "Document AI"),
    ("aml_screenings", "AML Screening"),
    ("ip_analyses", "IP Analysis"),
)

#: Person fields shown from the ID verification, with their labels.
PERSON_FIELDS = (
    ("full_name", "Full name"), ("first_name", "First name"), ("last_name", "Last name"),
    ("date_of_birth", "Date of birth"), ("age", "Age"), ("gender", "Gender"), ("nationality", "Nationality"),
    ("document_type", "Document type"), ("document_number", "Document number"),
    ("personal_number", "Personal number"), ("issuing_state_name", "Issuing state"),
    ("date_of_issue", "Date of issue"), ("expiration_date", "Expiration date"),
    ("place_of_birth", "Place of birth"), ("marital_status", "Marital status"), ("address", "Address"),
)

#: Per-feature facts worth a line in the report (when the item has them).
FEATURE_FACTS = (
    ("method", "Method"), ("score", "Score"), ("total_hits", "Total hits"), ("match_type", "Match type"),
    ("ip_address", "IP address"), ("ip_country", "IP country"), ("email", "Email"),
    ("full_number", "Phone number"), ("phone_number", "Phone number"), ("issuer", "Issuer"),
    ("poa_address", "Address"), ("age_estimation", "Estimated age"),
)


_FALLBACKS = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe", "\u0131": "i",
    "\u0126": "H", "\u0127": "h", "\u0166": "T", "\u0167": "t",
}


def latin1(value: Any) -> str:
    """Text a core PDF font can show: latin-1 kept, other letters stripped of accents, else '?'."""
    text = "" if value is None else str(value)
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
        out.append(base or _FALLBACKS.get(char, "?"))
    return "".join(out)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def open_report(title: str, heading: str, generated_at: datetime) -> tuple[Any, _Writer]:
    """A new A4 report (PDF 1.7) with its metadata, first page, title and the test-data note."""
    from fpdf import FPDF  # lazily: keeps server start-up fast

    pdf = FPDF(format="A4")
    pdf.pdf_version = "1.7"
    pdf.set_creation_date(generated_at)
    pdf.set_title(latin1(title))
    pdf.set_author("didit-mock")
    pdf.set_creator("didit-mock")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    writer = _Writer(pdf)
    writer.title(heading)
    writer.note(f"Generated {generated_at.strftime('%Y-%m-%d %H:%M:%S UTC')} by didit-mock (test data, not a real "
                "Didit report).")
    return pdf, writer


def render_report(decision: dict[str, Any], *, workflow_label: str | None, generated_at: datetime) -> bytes:
    """The PDF bytes of a KYC session report for a rendered decision."""
    pdf, writer = open_report(f"Session {decision.get('session_id')}", "Identity verification report", generated_at)

    writer.heading("Session")
    workflow = decision.get("workflow_id")
    writer.row("Session ID", decision.get("session_id"))
    writer.row("Session number", decision.get("session_number"))
    writer.row("Status", decision.get("status"))
    writer.row("Environment", decision.get("environment"))
    writer.row("Workflow", f"{workflow_label} ({workflow})" if workflow_label else workflow)
    writer.row("Vendor data", decision.get("vendor_data"))
    writer.row("Created at", decision.get("created_at"))
    writer.row("Expires at", decision.get("expires_at"))
    if decision.get("shared_from_session"):
        writer.row("Shared from session", decision.get("shared_from_session"))

    writer.heading("Person")
    ids = decision.get("id_verifications") or []
    if ids:
        person = ids[-1]
        for key, label in PERSON_FIELDS:
            if key in person:
                writer.row(label, person.get(key))
    else:
        writer.note("No identity document was verified in this session.")

    warnings = [(title, w) for key, title in FEATURE_SECTIONS for item in decision.get(key) or []
                for w in item.get("warnings") or []]
    writer.heading("Warnings")
    if warnings:
        for title, warning in warnings:
            writer.bullet(_warning_line(warning, title))
    else:
        writer.note("No warnings.")

    for key, title in FEATURE_SECTIONS:
        items = decision.get(key)
        if not items:
            continue
        for item in items:
            node = item.get("node_id")
            writer.heading(f"{title} ({node})" if node else title)
            writer.row("Result", item.get("status"))
            for fact, label in FEATURE_FACTS:
                if item.get(fact) not in (None, "", [], {}):
                    writer.row(label, item.get(fact))
            for warning in item.get("warnings") or []:
                writer.bullet(_warning_line(warning, None))

    writer.heading("Review activity")
    reviews = decision.get("reviews") or []
    if reviews:
        for review in reviews:
            parts = [_shown(review.get("created_at")), _shown(review.get("user"))]
            if review.get("new_status"):
                parts.append(f"status: {review['new_status']}")
            if review.get("comment"):
                parts.append(f"comment: {review['comment']}")
            writer.bullet(" - ".join(parts))
    else:
        writer.note("No review activity.")
    return bytes(pdf.output())


def _warning_line(warning: dict[str, Any], feature_title: str | None) -> str:
    risk = warning.get("risk") or "UNKNOWN"
    text = warning.get("short_description") or warning.get("long_description") or ""
    level = warning.get("log_type")
    prefix = f"{feature_title}: " if feature_title else ""
    return f"{prefix}{risk}" + (f" [{level}]" if level else "") + (f" {text}" if text else "")


class _Writer:
    """Small layout helpers over an FPDF document (one column, core Helvetica)."""

    LABEL_WIDTH = 48

    def __init__(self, pdf: Any):
        self.pdf = pdf

    def title(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "B", 16)
        self.pdf.multi_cell(0, 9, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def note(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "I", 9)
        self.pdf.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 12)
        self.pdf.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def row(self, label: str, value: Any) -> None:
        self.pdf.set_font("Helvetica", "B", 9)
        self.pdf.cell(self.LABEL_WIDTH, 5, latin1(label))
        self.pdf.set_font("Helvetica", "", 9)
        self.pdf.multi_cell(0, 5, latin1(_shown(value)), new_x="LMARGIN", new_y="NEXT")

    def bullet(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 9)
        self.pdf.multi_cell(0, 5, latin1(f"- {text}"), new_x="LMARGIN", new_y="NEXT")


class ReportCache:
    """Rendered reports of a tenant by (session_id, revision), so repeated downloads do not re-render."""

    SIZE = 64

    def __init__(self, tenant: object):
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()

    def get(self, key: tuple[str, int]) -> bytes | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[str, int], data: bytes) -> None:
        self._items[key] = data
        self._items.move_to_end(key)
        while len(self._items) > self.SIZE:
            self._items.popitem(last=False)


def check_reportable(session: Session) -> None:
    """403 unless the session is Approved, Declined, In Review or Kyc Expired."""
    if session.status not in st.PDF_ALLOWED:
        raise PermissionDenied(WRONG_STATUS)

