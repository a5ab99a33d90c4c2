"""The PDF of a wallet-screening result (`POST /v3/wallet-screening/pdf/`), rendered with fpdf2."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..reports import open_report


def render(result: dict[str, Any], generated_at: datetime) -> bytes:
    pdf, writer = open_report(f"Wallet screening {result.get('wallet_address')}", "Wallet screening report",
                              generated_at)
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
