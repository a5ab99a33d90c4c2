"""Questionnaires (`/v3/questionnaires/`): linear `form_elements` in several languages, with versions.

A questionnaire is a group of versions sharing a `questionnaire_group_id` (the id of its first
version); each version has its own `questionnaire_id`, which a workflow's QUESTIONNAIRE step names.
The versioning rules are the workflows' four (see `workflow_versions`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from .tenant import Tenant

DRAFT, PUBLISHED = "draft", "published"
NO_GRAPH = "The v3 questionnaire API only accepts simple `form_elements`, not `graph`."
NO_REVERT = "Cannot revert a published version to draft."
#: Element types that carry no answer (left out of `question_types`).
LAYOUT = ("section_header", "separator", "heading", "paragraph")
CHOICES = ("dropdown", "single_choice", "multiple_choice")
UNSUPPORTED = ("branches", "required_if", "repeatable_config")
TRANSLATED = ("label", "description", "placeholder")


@dataclass
class QuestionnaireVersion:
    """One version of a questionnaire; `elements` are the normalised form elements."""

    questionnaire_id: str
    group_id: str
    title: str
    description: str | None
    languages: list[str]
    default_language: str
    is_active: bool
    elements: list[dict[str, Any]]
    version: int
    status: str
    created_at: float
    updated_at: float
    published_at: float | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ---------------------------------------------------------------- validation

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "option"


def check_languages(languages: list[str], default: str | None) -> str:
    """The default language, after Didit's language rules."""
    if "en" not in languages:
        raise ValidationFailed.field("languages", "Languages must include `en`.")
    chosen = default or "en"
    if chosen not in languages:
        raise ValidationFailed.field("default_language", "The default language must be one of `languages`.")
    return chosen


def check_elements(raw: list[dict[str, Any]], languages: list[str]) -> list[dict[str, Any]]:
    """The normalised elements (ids and option values generated), or DRF's per-element 400."""
    errors: list[dict[str, list[str]]] = []
    elements: list[dict[str, Any]] = []
    used: set[str] = set()
    for index, item in enumerate(raw, start=1):
        problems: dict[str, list[str]] = {}
        kind = str(item["element_type"]).lower()
        for key in UNSUPPORTED:
            if key in item:
                problems[key] = ["Not supported by the v3 questionnaire API; use the Console for branching and "
                                 "repeatable questions."]
        for key in TRANSLATED:
            texts = item.get(key)
            if texts is None:
                continue
            missing = [lang for lang in languages if not texts.get(lang)]
            if missing:
                problems[key] = [f"Missing translation for: {', '.join(missing)}."]
        options = []
        if kind in CHOICES:
            if not item.get("options"):
                problems["options"] = ["This question type needs at least one option."]
            for option in item.get("options") or []:
                label = option["label"]
                missing = [lang for lang in languages if not label.get(lang)]
                if missing:
                    problems.setdefault("options", []).append(f"Missing translation for: {', '.join(missing)}.")
                value = option.get("value") or _slug(str(label.get("en") or next(iter(label.values()), "")))
                options.append({"value": value, "label": dict(label)})
        element_id = item.get("id") or f"q{index}"
        if element_id in used:
            problems["id"] = [f"Duplicate question id '{element_id}'."]
        used.add(element_id)
        errors.append(problems)
        element: dict[str, Any] = {
            "id": element_id, "element_type": kind, "label": dict(item["label"]),
            "description": item.get("description"), "placeholder": item.get("placeholder"),
            "is_required": bool(item.get("is_required", False)),
        }
        if kind in CHOICES:
            element["options"] = options
        if item.get("max_files") is not None:
            element["max_files"] = item["max_files"]
        if item.get("validation") is not None:
            element["validation"] = dict(item["validation"])
        elements.append(element)
    if any(errors):
        raise ValidationFailed({"form_elements": errors})
    return elements


# ---------------------------------------------------------------- the catalog

class QuestionnaireCatalog:
    """A tenant's questionnaire versions by `questionnaire_id`."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.versions: dict[str, QuestionnaireVersion] = {}

    def get(self, questionnaire_id: str) -> QuestionnaireVersion:
        found = self.versions.get(questionnaire_id)
        if found is None:
            raise NotFound()
        return found

    def group(self, group_id: str) -> list[QuestionnaireVersion]:
        return sorted((v for v in self.versions.values() if v.group_id == group_id), key=lambda v: v.version)

    def newest_first(self) -> list[QuestionnaireVersion]:
        return sorted(reversed(list(self.versions.values())), key=lambda v: v.created_at, reverse=True)

    def create(self, body: dict[str, Any], default_language: str,
               elements: list[dict[str, Any]]) -> QuestionnaireVersion:
        now = self.tenant.clock.timestamp()
        new_id = self.tenant.rng.uuid4()
        status = body.get("status") or PUBLISHED
        row = QuestionnaireVersion(
            questionnaire_id=new_id, group_id=new_id, title=body["title"], description=body.get("description"),
            languages=list(body["languages"]), default_language=default_language,
            is_active=body.get("is_active", True), elements=elements, version=1, status=status, created_at=now,
            updated_at=now, published_at=now if status == PUBLISHED else None,
        )
        self.versions[new_id] = row
        return row

    def update(self, questionnaire_id: str, body: dict[str, Any], default_language: str | None,
               elements: list[dict[str, Any]] | None) -> QuestionnaireVersion:
        """The workflows' four versioning rules."""
        row = self.get(questionnaire_id)
        wanted = body.get("status")
        if wanted == DRAFT and row.status == PUBLISHED:
            raise ValidationFailed.field("status", NO_REVERT)
        now = self.tenant.clock.timestamp()
        if wanted == PUBLISHED and row.status == PUBLISHED:
            for other in self.group(row.group_id):
                if other.status == DRAFT:
                    del self.versions[other.questionnaire_id]
            latest = self.group(row.group_id)[-1].version
            row = QuestionnaireVersion(**{
                **row.to_json(), "questionnaire_id": self.tenant.rng.uuid4(), "version": latest + 1,
                "elements": list(row.elements), "languages": list(row.languages), "created_at": now,
                "published_at": now,
            })
            self.versions[row.questionnaire_id] = row
        elif row.status == DRAFT and wanted != DRAFT:
            row.status = PUBLISHED
            row.published_at = now
        for key in ("title", "description", "is_active"):
            if key in body:
                setattr(row, key, body[key])
        if "languages" in body:
            row.languages = list(body["languages"])
        if default_language is not None:
            row.default_language = default_language
        if elements is not None:
            row.elements = elements
        row.updated_at = now
        return row

    def delete(self, questionnaire_id: str) -> None:
        self.get(questionnaire_id)
        del self.versions[questionnaire_id]

    def restore(self, versions: list[QuestionnaireVersion]) -> None:
        self.versions = {v.questionnaire_id: v for v in versions}


def catalog(tenant: Tenant) -> QuestionnaireCatalog:
    return tenant.component(QuestionnaireCatalog)


# ---------------------------------------------------------------- rendering

def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _node(element: dict[str, Any], following: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"element_type": element["element_type"].upper(), "is_required": element["is_required"],
                            "title": element["label"]}
    for key in ("description", "placeholder", "max_files", "validation"):
        if element.get(key) is not None:
            node[key] = element[key]
    if "options" in element:
        node["choices"] = element["options"]
    node["next"] = following
    return node


def _sections(v: QuestionnaireVersion) -> list[dict[str, Any]]:
    """The elements grouped by their section headers (a first untitled section holds what precedes one)."""
    sections: list[dict[str, Any]] = []
    for element in v.elements:
        if element["element_type"] == "section_header":
            sections.append({"title": element["label"], "description": element.get("description") or {},
                             "items": []})
            continue
        if not sections:
            sections.append({"title": {}, "description": {}, "items": []})
        item = {"uuid": str(uuid.uuid5(uuid.UUID(v.questionnaire_id), element["id"])), "value": element["id"],
                **{k: w for k, w in _node(element, None).items() if k != "next"}}
        sections[-1]["items"].append(item)
    return sections


def detail_json(v: QuestionnaireVersion) -> dict[str, Any]:
    ids = [e["id"] for e in v.elements]
    nodes = {e["id"]: _node(e, ids[i + 1] if i + 1 < len(ids) else None) for i, e in enumerate(v.elements)}
    return {
        "questionnaire_id": v.questionnaire_id, "title": v.title, "description": v.description,
        "languages": list(v.languages), "default_language": v.default_language, "is_active": v.is_active,
        "is_simple_questionnaire": True, "graph": {"start_node": ids[0] if ids else None, "nodes": nodes},
        "sections": _sections(v), "questionnaire_group_id": v.group_id, "version": v.version, "status": v.status,
        "published_at": _iso(v.published_at), "is_editable": v.status == DRAFT,
    }


def list_row(v: QuestionnaireVersion) -> dict[str, Any]:
    return {
        "uuid": v.questionnaire_id, "title": v.title, "description": v.description, "languages": list(v.languages),
        "default_language": v.default_language, "is_active": v.is_active, "is_simple_questionnaire": True,
        "created_at": _iso(v.created_at), "updated_at": _iso(v.updated_at),
        "question_types": [e["element_type"].upper() for e in v.elements if e["element_type"] not in LAYOUT],
        "workflow_names": [], "questionnaire_group_id": v.group_id, "version": v.version, "status": v.status,
        "published_at": _iso(v.published_at), "is_editable": v.status == DRAFT,
    }


# ---------------------------------------------------------------- a session's responses

_TEXT_ANSWERS = ("Monthly salary from my employer.", "Savings accumulated over several years.",
                 "Income from my own small business.", "Returns from long-term investments.")
_FIXED_ANSWERS: dict[str, Any] = {
    "email": "user@example.com", "phone": "+14155552671", "country": "ESP", "date_picker": "1990-01-01",
    "time": "12:00", "consent": True, "address": "Calle Mayor 1, 28013 Madrid, Spain", "image": None,
    "file_upload": None,
}


def _answer(element: dict[str, Any], rnd: Any) -> str | None:
    """An answer as the decision carries it: a string (a choice's value, a number's digits) or null."""
    kind = element["element_type"]
    options = [o["value"] for o in element.get("options") or []]
    if kind in CHOICES:
        return rnd.choice(options) if options else None
    if kind == "number":
        rule = element.get("validation") or {}
        value = rule.get("min", rule.get("max", 42))
        return str(int(value) if float(value).is_integer() else value)
    if kind in ("short_text", "long_text"):
        return rnd.choice(_TEXT_ANSWERS)
    fixed = _FIXED_ANSWERS.get(kind)
    return "true" if fixed is True else fixed


def session_responses(tenant: Tenant, questionnaire_id: str, rnd: Any) -> dict[str, Any] | None:
    """A finished session's `questionnaire_responses` item for questionnaire `questionnaire_id`: its
    elements with an answer each, texts in the default language (None: the questionnaire is gone)."""
    version = catalog(tenant).versions.get(questionnaire_id)
    if version is None:
        return None
    lang = version.default_language

    def text(texts: dict[str, str] | None) -> str | None:
        return None if not texts else texts.get(lang) or next(iter(texts.values()))

    sections = []
    for section in _sections(version):
        items = []
        for item in section["items"]:
            element = next(e for e in version.elements if e["id"] == item["value"])
            if element["element_type"] in LAYOUT:
                continue
            choices = [{"label": text(o["label"]), "value": o["value"]} for o in element.get("options") or []]
            items.append({
                "uuid": item["uuid"], "value": element["id"], "element_type": element["element_type"].upper(),
                "is_required": element["is_required"], "title": text(element["label"]),
                "description": text(element.get("description")), "placeholder": text(element.get("placeholder")),
                "choices": choices or None, "max_files": element.get("max_files", 1),
                "answer": {"value": _answer(element, rnd)}, "required_if": None, "repeatable_config": None,
            })
        sections.append({"title": text(section["title"]), "description": text(section["description"]),
                         "items": items})
    return {
        "questionnaire_id": version.questionnaire_id, "title": version.title, "description": version.description or "",
        "languages": list(version.languages), "default_language": lang, "is_active": version.is_active,
        "is_simple_questionnaire": True, "questionnaire_group_id": version.group_id, "version": version.version,
        "published_at": _iso(version.published_at), "sections": sections,
    }
