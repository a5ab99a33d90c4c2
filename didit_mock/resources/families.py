"""The families the generic store serves, declared (didit-api-families.md §2 and §1.21)."""

from __future__ import annotations

from .declaration import Collection, Transition

FINAL_REPORT = "A finalized report cannot be changed."

OPEN_STATES = ("OPEN", "AWAITING_USER")
NOTHING_STAGED = "This case has no resolution pending approval."

#: Resolving a case whose blueprint names a four-eyes checker stages the resolution instead
#: (`resolve_case` on a maker blueprint): the case moves to the checker blueprint, still open.
STAGE_RESOLUTION = Transition(
    "resolve_case", {
        "pending_resolution": {"resolution": "$body.resolution", "resolution_notes": "$body.note",
                               "maker_email": "$body.actor_email", "maker_name": "$body.actor_name",
                               "maker_blueprint_id": "$self.blueprint.uuid", "staged_at": "$now"},
        "blueprint": "$body.blueprint"},
    field="pending_resolution", allowed_from=(None,),
    refused=(400, "A resolution is already pending approval on this case."))

CASES = Collection(
    "cases", shape_from="get_case", id_param="case_uuid",
    list="list_cases", create="create_case", get="get_case", update="update_case", delete="delete_case",
    children=("case-notes", "case-links", "case-events", "case-checklist", "case-files"),
    filters=("status__in", "priority", "source__in", "blueprint", "tag", "assigned_to"),
    number_field="case_number", number_format="CS-{n:04d}",
    defaults={"status": "OPEN", "source": "MANUAL", "resolution": None},
    # Sent as ids, answered as objects: the case rules resolve the blueprint (handlers/case_actions).
    references=("blueprint", "assigned_to", "links"),
    transitions=(
        Transition("resolve_case", {"status": "RESOLVED", "resolution": "$body.resolution",
                                    "resolution_notes": "$body.note", "resolved_at": "$now",
                                    "resolved_by_email": "$body.actor_email"},
                   allowed_from=OPEN_STATES, refused=(400, "The case is already {current}.")),
        Transition("reopen_case", {"status": "OPEN", "resolution": None, "resolution_notes": None,
                                   "resolved_at": None, "resolved_by_email": None}, allowed_from=("RESOLVED",),
                   refused=(400, "Only a resolved case can be reopened; this one is {current}.")),
        Transition("request_case_info", {"status": "AWAITING_USER"}, allowed_from=("OPEN",),
                   refused=(400, "Information can be requested on an open case only; this one is {current}.")),
        Transition("assign_case", {  # a null assignee unassigns
            "assigned_to": {"$if": "$body.assignee_user_id", "else": None, "then": {
                "uuid": "$body.assignee_user_id",
                "full_name": {"$if": "$body.assignee_name", "then": "$body.assignee_name", "else": "$omit"},
                "email": {"$if": "$body.assignee_email", "then": "$body.assignee_email", "else": "$omit"}}},
            "assigned_at": {"$if": "$body.assignee_user_id", "then": "$now", "else": None}}),
        # The target blueprint comes from the case rules (the current blueprint's escalation target).
        Transition("escalate_case", {"blueprint": "$body.blueprint"}, allowed_from=OPEN_STATES,
                   refused=(400, "A {current} case cannot be escalated.")),
        Transition("transfer_case", {"blueprint": "$body.blueprint"}, allowed_from=OPEN_STATES,
                   refused=(400, "A {current} case cannot be transferred.")),
        Transition("approve_case_resolution", {
            "status": "RESOLVED", "resolution": "$self.pending_resolution.resolution",
            "resolution_notes": "$self.pending_resolution.resolution_notes", "resolved_at": "$now",
            "resolved_by_email": "$body.actor_email", "pending_resolution": None},
            field="pending_resolution", refused_when=(None,), refused=(409, NOTHING_STAGED)),
        Transition("reject_case_resolution", {"pending_resolution": None, "blueprint": "$body.blueprint"},
                   field="pending_resolution", refused_when=(None,), refused=(409, NOTHING_STAGED)),
    ),
)

CASE_NOTES = Collection(
    "case-notes", shape_from="create_case_note", id_param="note_uuid", parent="cases", parent_param="case_uuid",
    list="list_case_notes", create="create_case_note", delete="delete_case_note",
)
CASE_LINKS = Collection(
    "case-links", shape_from="create_case_link", id_param="link_uuid", parent="cases", parent_param="case_uuid",
    list="list_case_links", create="create_case_link", delete="delete_case_link", list_form="array",
)
#: A case's audit timeline, written by the case rules, listed newest first.
CASE_EVENTS = Collection("case-events", shape_from="list_case_events", parent="cases", parent_param="case_uuid",
                         list="list_case_events")
#: A case's checklist, copied from its blueprint at creation (served by the case rules).
CASE_CHECKLIST = Collection("case-checklist", shape_from="toggle_case_checklist_item", id_param="item_uuid",
                            parent="cases", parent_param="case_uuid")
#: Files uploaded for a case's notes (content base64), served by the mock's download route.
CASE_FILES = Collection("case-files", shape_from="upload_case_note_attachment",
                        parent="cases", parent_param="case_uuid")

BLUEPRINTS = Collection(
    "case-blueprints", shape_from="get_case_blueprint", id_param="blueprint_uuid",
    list="list_case_blueprints", create="create_case_blueprint", get="get_case_blueprint",
    update="update_case_blueprint", delete="delete_case_blueprint",
)

REPORT_TEMPLATES = Collection(
    "report-templates", shape_from="get_report_template", id_param="template_uuid",
    list="list_report_templates", create="create_report_template", get="get_report_template",
    update="update_report_template", delete="delete_report_template",
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
#: The uploaded logo files of the branding (bytes in base64), served at their signed URLs; no route of its own.
CUSTOMIZATION_LOGOS = Collection("customization-logos", shape_from="update_customization")

COLLECTIONS: tuple[Collection, ...] = (
    CASES,
    CASE_NOTES,
    CASE_LINKS,
    CASE_EVENTS,
    CASE_CHECKLIST,
    CASE_FILES,
    BLUEPRINTS,
    REPORT_TEMPLATES,
    REGULATORY_REPORTS,
    Collection(
        "transaction-rules", shape_from="getTransactionRule", id_param="rule_uuid",
        list="listTransactionRules", create="createTransactionRule", get="getTransactionRule",
        update="updateTransactionRule", delete="deleteTransactionRule",
        filters=("source", "category", "mode"),
        defaults={"source": "CUSTOM", "library_key": None, "latest_triggered_at": None},
    ),
    CUSTOMIZATION,
    CUSTOMIZATION_LOGOS,
    Collection("networks", shape_from="get_network", id_param="network_uuid", list="list_networks",
               get="get_network", filters=("status",), read_only=True),
)
