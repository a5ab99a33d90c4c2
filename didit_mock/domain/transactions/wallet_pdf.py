"""The PDF of a wallet-screening result (`POST /v3/wallet-screening/pdf/`), rendered with fpdf2."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..reports import _Writer, latin1


def render(result: dict[str, Any], generated_at: datetime) -> bytes:
    from fpdf import FPDF  # lazily: keeps server start-up fast

    pdf = FPDF(format="A4")
    pdf.set_creation_date(generated_at)
    pdf.set_title(latin1(f"Wallet screening {result.get('wallet_address')}"))
    pdf.set_author("didit-mock")
    pdf.set_creator("didit-mock")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    writer = _Writer(pdf)
    writer.title("Wallet screening report")
    writer.note(f"Generated {generated_at.strftime('%Y-%m-%d %H:%M:%S UTC')} by didit-mock (test data, not a real "
                "Didit report).")
    writer.heading("Result")
    for key in ("wallet_address", "blockchain", "provider", "status", "risk_score", "severity", "sanctions_hit",
                "dominant_risk_category", "summary"):
        writer.row(key.replace("_", " ").capitalize(), result.get(key))
    for key, title in (("risk_factors", "Risk factors"), ("source_of_funds", "Source of funds"),
                       ("destination_of_funds", "Destination of funds"),
                       ("counterparty_connections", "Counterparty connections")):
        items = [i for i in result.get(key) or [] if isinstance(i, dict)]
        if items:
            writer.heading(title)
            for item in items:
                writer.bullet(", ".join(f"{k}: {v}" for k, v in item.items() if v not in (None, "", [])))
    writer.note(f"Report signature {result.get('report_signature')}")
    return bytes(pdf.output())
