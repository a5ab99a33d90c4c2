"""The families the generic store serves, declared (didit-api-families.md §2 and §1.21)."""

from __future__ import annotations

from .declaration import Collection, Transition

FINAL_REPORT = "A finalized report cannot be changed."

CASES = Collection(
    "cases", shape_from="get_case", id_param="case_uuid",
    list="list_cases", create="create_case", get="get_case", update="update_case", delete="delete_case",
    children=("case-notes", "case-links"),
    filters=("status__in", "priority", "source__in", "blueprint", "tag", "assigned_to"),
    number_field="case_number", number_format="CS-{n:04d}",
    defaults={"status": "OPEN", "source": "MANUAL", "resolution": None},
    # Sent as ids, answered as objects: the referenced blueprint and assignee are not resolved yet.
    references=("blueprint", "assigned_to", "links"),
    transitions=(
        Transition("resolve_case", {"status": "RESOLVED", "resolution": "$body.resolution",
                                    "resolution_notes": "$body.note", "resolved_at": "$now"},
                   allowed_from=("OPEN", "AWAITING_USER"), refused=(400, "The case is already {current}.")),
        Transition("reopen_case", {"status": "OPEN", "resolution": None, "resolution_notes": None,
                                   "resolved_at": None}, allowed_from=("RESOLVED",),
                   refused=(400, "Only a resolved case can be reopened; this one is {current}.")),
        Transition("request_case_info", {"status": "AWAITING_USER"}, allowed_from=("OPEN",),
                   refused=(400, "Information can be requested on an open case only; this one is {current}.")),
        Transition("assign_case", {  # a null assignee unassigns
            "assigned_to": {"$if": "$body.assignee_user_id", "else": None, "then": {
                "uuid": "$body.assignee_user_id",
                "full_name": {"$if": "$body.assignee_name", "then": "$body.assignee_name", "else": ""},
                "email": {"$if": "$body.assignee_email", "then": "$body.assignee_email", "else": ""}}},
            "assigned_at": {"$if": "$body.assignee_user_id", "then": "$now", "else": None}}),
    ),
)

BLUEPRINTS = Collection(
    "case-blueprints", shape_from="get_case_blueprint", id_param="blueprint_uuid",
    list="list_case_blueprints", create="create_case_blueprint", get="get_case_blueprint",
    update="update_case_blueprint", delete="delete_case_blueprint",
)

REGULATORY_REPORTS = Collection(
    "regulatory-reports", shape_from="get_regulatory_report", id_param="report_uuid",
    list="list_regulatory_reports", create="create_standalone_regulatory_report", get="get_regulatory_report",
    update="update_regulatory_report", delete="delete_regulatory_report",
    filters=("status", "report_type"),
    defaults={"status": "DRAFT"},
    frozen_when=("status", ("FINALIZED",), FINAL_REPORT),
    transitions=(
        Transition("finalize_regulatory_report", {"status": "FINALIZED"}, allowed_from=("VALIDATED",),
                   refused=(400, "Validate the report before finalizing it (it is {current}).")),
    ),
)

#: The branding singleton; `PATCH` has rules (handlers/customization.py), `GET` is the store's.
CUSTOMIZATION = Collection("customization", shape_from="get_customization", get="get_customization",
                           update="update_customization", singleton=True)

COLLECTIONS: tuple[Collection, ...] = (
    CASES,
    Collection(
        "case-notes", shape_from="create_case_note", id_param="note_uuid", parent="cases", parent_param="case_uuid",
        list="list_case_notes", create="create_case_note", delete="delete_case_note",
        defaults={"actor_email": "api@didit-mock.local", "actor_name": "API"},
    ),
    Collection(
        "case-links", shape_from="create_case_link", id_param="link_uuid", parent="cases", parent_param="case_uuid",
        list="list_case_links", create="create_case_link", delete="delete_case_link", list_form="array",
    ),
    BLUEPRINTS,
    Collection(
        "report-templates", shape_from="get_report_template", id_param="template_uuid",
        list="list_report_templates", create="create_report_template", get="get_report_template",
        update="update_report_template", delete="delete_report_template",
    ),
    REGULATORY_REPORTS,
    Collection(
        "transaction-rules", shape_from="getTransactionRule", id_param="rule_uuid",
        list="listTransactionRules", create="createTransactionRule", get="getTransactionRule",
        update="updateTransactionRule", delete="deleteTransactionRule",
        filters=("source", "category", "mode"),
        defaults={"source": "CUSTOM", "library_key": None, "latest_triggered_at": None},
    ),
    CUSTOMIZATION,
    Collection("networks", shape_from="get_network", id_param="network_uuid", list="list_networks",
               get="get_network", filters=("status",), read_only=True),
)
