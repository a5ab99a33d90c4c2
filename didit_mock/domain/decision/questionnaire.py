"""The questionnaire item: the answers to the workflow's questionnaire (or a built-in source of funds)."""

from __future__ import annotations

import random
import uuid
from typing import Any

from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..rng import derive_seed
from .context import WITH_RESUB, Context, status_within
from .layout import node_id_for

_QUESTIONS = (
    ("DROPDOWN", "What is your primary source of funds?",
     (("Salary", "salary"), ("Business Income", "business_income"), ("Savings", "savings"),
      ("Investments", "investments"), ("Inheritance/Gift", "inheritance_gift"), ("Pension", "pension"))),
    ("DROPDOWN", "What is your annual income range (pre-tax)?",
     (("Less than $25,000", "<25k"), ("$25,000 - $50,000", "25k-50k"), ("$50,001 - $100,000", "50k-100k"),
      ("$100,001 - $250,000", "100k-250k"), ("More than $250,000", ">250k"))),
    ("LONG_TEXT", "Provide details of the primary source.", ()),
    ("SINGLE_CHOICE", "Are you acting on your own behalf?", (("Yes", "yes"), ("No", "no"))),
)
_ANSWERS = ("Monthly salary from my employer.", "Savings accumulated over several years.",
            "Income from my own small business.", "Returns from long-term investments.")


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def questionnaire_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `questionnaire_responses` item."""
    rnd = ctx.rnd("questionnaire")
    linked = ctx.session.workflow.extra.get("questionnaire_id")
    if linked:  # a workflow made through the API names one of the application's questionnaires
        from ..questionnaires import session_responses

        responses = session_responses(ctx.tenant, str(linked), rnd)
        if responses is not None:
            return {"node_id": node_id_for(wf.QUESTIONNAIRE), **responses,
                    "status": status_within(outcome.status, WITH_RESUB), "warnings": ctx.warnings(outcome)}
    fixed = random.Random(derive_seed(ctx.tenant.seed, "questionnaire", ctx.session.workflow.workflow_id))
    items = []
    for index, (kind, title, choices) in enumerate(_QUESTIONS, start=1):
        answer = ("yes" if kind == "SINGLE_CHOICE" else rnd.choice(choices)[1]) if choices \
            else rnd.choice(_ANSWERS)
        items.append({
            "uuid": _uuid(fixed), "value": f"question_{index}", "element_type": kind, "is_required": True,
            "title": title, "description": None, "placeholder": None,
            "choices": [{"label": label, "value": value} for label, value in choices] or None,
            "max_files": 1, "answer": {"value": answer}, "required_if": None, "repeatable_config": None,
        })
    extra = ctx.session.workflow.extra
    return {
        "node_id": node_id_for(wf.QUESTIONNAIRE),
        "questionnaire_id": str(extra.get("questionnaire_id") or _uuid(fixed)),
        "title": "Source of Funds",
        "description": "Reply to this questionnaire to help us understand the source of funds.",
        "languages": ["en"],
        "default_language": "en",
        "is_active": True,
        "is_simple_questionnaire": True,
        "questionnaire_group_id": _uuid(fixed),
        "version": 1,
        "published_at": "2025-11-02T09:14:55.000000Z",
        "sections": [{"title": None, "description": None, "items": items}],
        "status": status_within(outcome.status, WITH_RESUB),
        "warnings": ctx.warnings(outcome),
    }
