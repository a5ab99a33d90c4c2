"""The files of cases and regulatory reports: a case printed as a PDF, a report as a PDF or as
goAML-style XML. Each is rendered from the documents as they are when the file is downloaded."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from .reports import open_report

CASE_FIELDS = (
    ("case_number", "Case number"), ("uuid", "Case ID"), ("title", "Title"), ("status", "Status"),
    ("priority", "Priority"), ("source", "Source"), ("resolution", "Resolution"),
    ("resolution_notes", "Resolution notes"), ("resolved_by_email", "Resolved by"), ("due_at", "Due at"),
    ("created_at", "Created at"), ("resolved_at", "Resolved at"),
)
REPORT_FIELDS = (
    "report_type", "status", "jurisdiction", "rentity_id", "rentity_branch", "submission_code",
    "entity_reference", "fiu_ref_number", "currency_code_local", "submission_date", "reason", "action",
)


def render_case(case: dict[str, Any], reports: list[dict[str, Any]], generated_at: datetime) -> bytes:
    """The PDF bytes of a case: summary, subject, checklist, notes, links, events, FIU reports."""
    pdf, writer = open_report(f"Case {case.get('case_number') or case.get('uuid')}", "Case report", generated_at)
    writer.heading("Case")
    for key, label in CASE_FIELDS:
        writer.row(label, case.get(key))
    writer.row("Tags", ", ".join(case.get("tags") or []))
    blueprint = case.get("blueprint") or {}
    writer.row("Blueprint", blueprint.get("name"))
    assignee = case.get("assigned_to") or {}
    writer.row("Assigned to", assignee.get("email") or assignee.get("full_name"))
    subject = case.get("subject") or {}
    writer.heading("Subject")
    writer.row("Type", subject.get("type"))
    writer.row("ID", subject.get("uuid"))
    _section(writer, "Checklist", [(i.get("label"), "done" if i.get("is_completed") else "open")
                                   for i in case.get("checklist_items") or []])
    _section(writer, "Notes", [(n.get("created_at"), f"{n.get('actor_email') or ''}: {n.get('comment')}")
                               for n in case.get("notes") or []])
    _section(writer, "Linked entities", [(link.get("entity_type"), link.get("entity_uuid"))
                                         for link in case.get("links") or []])
    _section(writer, "Events", [(e.get("created_at"), f"{e.get('event_type')} by {e.get('actor_email') or '-'}")
                                for e in case.get("events") or []])
    _section(writer, "FIU reports", [(r.get("report_type"), f"{r.get('uuid')} ({r.get('status')})")
                                     for r in reports])
    return bytes(pdf.output())


def _section(writer: Any, title: str, rows: list[tuple[Any, Any]]) -> None:
    writer.heading(title)
    if not rows:
        writer.note("None.")
    for label, value in rows:
        writer.row(str(label if label not in (None, "") else "-"), value)


def render_report_pdf(report: dict[str, Any], generated_at: datetime) -> bytes:
    pdf, writer = open_report(f"Regulatory report {report.get('uuid')}", "Regulatory report", generated_at)
    writer.heading("Report")
    for key in REPORT_FIELDS:
        writer.row(key.replace("_", " ").capitalize(), report.get(key))
    writer.heading("Transactions")
    for item in report.get("transactions") or []:
        writer.row("Transaction", item.get("uuid") or item if isinstance(item, dict) else item)
    return bytes(pdf.output())


def render_report_xml(report: dict[str, Any]) -> bytes:
    """A goAML-style `<report>`: the report's fields, its transactions and its narrative."""
    root = ElementTree.Element("report")
    for key in REPORT_FIELDS:
        value = report.get(key)
        if value not in (None, ""):
            ElementTree.SubElement(root, key).text = str(value)
    narrative = report.get("narrative")
    if isinstance(narrative, dict):
        node = ElementTree.SubElement(root, "narrative")
        for key, value in narrative.items():
            if value not in (None, ""):
                ElementTree.SubElement(node, str(key)).text = str(value)
    transactions = ElementTree.SubElement(root, "transactions")
    for item in report.get("transactions") or []:
        ElementTree.SubElement(transactions, "transaction").text = str(
            item.get("uuid") if isinstance(item, dict) and item.get("uuid") else item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8")
