"""Questionnaires over HTTP: form elements in several languages, validation, versions, and workflow links."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from didit_mock.server import MockServer
from tests.conftest import new_key

ELEMENTS = [
    {"id": "occupation", "element_type": "short_text", "label": {"en": "Occupation", "es": "Ocupación"},
     "is_required": True, "validation": {"min_length": 2}},
    {"element_type": "SECTION_HEADER", "label": {"en": "Money", "es": "Dinero"}},
    {"element_type": "multiple_choice", "label": {"en": "Source of funds", "es": "Origen de fondos"},
     "options": [{"label": {"en": "Employment", "es": "Empleo"}}, {"value": "biz", "label": {"en": "Business",
                                                                                             "es": "Negocio"}}]},
]


def create(client: httpx.Client, **fields: object) -> dict:
    body = {"title": "Onboarding", "languages": ["en", "es"], "form_elements": ELEMENTS, **fields}
    response = client.post("/v3/questionnaires/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_builds_the_graph_and_sections(client: httpx.Client) -> None:
    made = create(client)
    assert made["questionnaire_id"] == made["questionnaire_group_id"]
    assert (made["version"], made["status"], made["is_editable"], made["default_language"]) == (
        1, "published", False, "en")
    graph = made["graph"]
    assert graph["start_node"] == "occupation"
    assert graph["nodes"]["occupation"]["next"] == "q2" and graph["nodes"]["q3"]["next"] is None
    assert graph["nodes"]["q3"]["element_type"] == "MULTIPLE_CHOICE"
    assert [c["value"] for c in graph["nodes"]["q3"]["choices"]] == ["employment", "biz"]
    assert [s["title"] for s in made["sections"]] == [{}, {"en": "Money", "es": "Dinero"}]
    assert [i["value"] for i in made["sections"][1]["items"]] == ["q3"]
    assert client.get(f"/v3/questionnaires/{made['questionnaire_id']}/").json() == made

    row = client.get("/v3/questionnaires/").json()["results"][0]
    assert row["uuid"] == made["questionnaire_id"]
    assert row["question_types"] == ["SHORT_TEXT", "MULTIPLE_CHOICE"] and row["workflow_names"] == []


@pytest.mark.parametrize(("change", "errors"), [
    ({"graph": {}}, {"graph": "The v3 questionnaire API only accepts simple `form_elements`, not `graph`."}),
    ({"form_elements": [{"element_type": "short_text"}]}, {"form_elements": [{"label": ["This field is required."]}]}),
    ({"form_elements": [{"element_type": "slider", "label": {"en": "x", "es": "x"}}]},
     {"form_elements": [{"element_type": ['"slider" is not a valid choice.']}]}),
    ({"languages": ["es"], "form_elements": [{"element_type": "email", "label": {"es": "x"}}]},
     {"languages": ["Languages must include `en`."]}),
    ({"default_language": "fr"}, {"default_language": ["The default language must be one of `languages`."]}),
    ({"form_elements": [{"element_type": "email", "label": {"en": "Mail"}}]},
     {"form_elements": [{"label": ["Missing translation for: es."]}]}),
    ({"form_elements": [{"element_type": "dropdown", "label": {"en": "x", "es": "x"}, "options": [{"value": "a"}]}]},
     {"form_elements": [{"options": [{"label": ["This field is required."]}]}]}),
    ({"form_elements": [{"element_type": "email", "label": {"en": "x", "es": "x"}, "branches": []}]},
     {"form_elements": [{"branches": ["Not supported by the v3 questionnaire API; use the Console for branching "
                                      "and repeatable questions."]}]}),
    ({"form_elements": []}, {"form_elements": ["This list may not be empty."]}),
])
def test_create_refuses_bad_forms(client: httpx.Client, change: dict, errors: object) -> None:
    body = {"title": "T", "languages": ["en", "es"], "form_elements": ELEMENTS, **change}
    response = client.post("/v3/questionnaires/", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert client.get("/v3/questionnaires/").json()["count"] == 0


def test_versions_and_delete(client: httpx.Client) -> None:
    made = create(client)
    renamed = client.patch(f"/v3/questionnaires/{made['questionnaire_id']}/", json={"title": "Renamed"}).json()
    assert (renamed["questionnaire_id"], renamed["title"], renamed["version"]) == (made["questionnaire_id"],
                                                                                 "Renamed", 1)
    newer = client.patch(f"/v3/questionnaires/{made['questionnaire_id']}/", json={
        "status": "published", "form_elements": [{"element_type": "email", "label": {"en": "Mail", "es": "Correo"}}]})
    assert newer.status_code == 200, newer.text
    v2 = newer.json()
    assert v2["version"] == 2 and v2["questionnaire_group_id"] == made["questionnaire_id"]
    assert list(v2["graph"]["nodes"]) == ["q1"]
    refused = client.patch(f"/v3/questionnaires/{v2['questionnaire_id']}/", json={"status": "draft"})
    assert refused.json() == {"status": ["Cannot revert a published version to draft."]}
    untranslated = client.patch(f"/v3/questionnaires/{v2['questionnaire_id']}/", json={"languages": ["en", "es", "fr"]})
    assert untranslated.json() == {"form_elements": [{"label": ["Missing translation for: fr."]}]}
    draft = create(client, status="draft")
    assert draft["is_editable"] and draft["published_at"] is None
    assert client.patch(f"/v3/questionnaires/{draft['questionnaire_id']}/", json={}).json()["status"] == "published"

    assert client.delete(f"/v3/questionnaires/{made['questionnaire_id']}/").status_code == 204
    assert client.get(f"/v3/questionnaires/{made['questionnaire_id']}/").json() == {"detail": "Not found."}
    assert client.get("/v3/questionnaires/").json()["count"] == 2


def test_a_workflow_questionnaire_step_needs_an_existing_questionnaire(client: httpx.Client) -> None:
    made = create(client)
    step = {"feature": "QUESTIONNAIRE", "config": {"questionnaire_uuid": made["questionnaire_id"]}}
    response = client.post("/v3/workflows/", json={"features": [step]})
    assert response.status_code == 201, response.text
    assert response.json()["questionnaire_uuid"] == made["questionnaire_id"]
    session = client.post("/v3/session/", json={"workflow_id": response.json()["workflow_id"]}).json()
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["features"] == ["QUESTIONNAIRE"]
    block = decision["questionnaire_responses"][0]
    assert (block["questionnaire_id"], block["title"], block["languages"]) == (
        made["questionnaire_id"], "Onboarding", ["en", "es"])
    first, second = block["sections"]
    assert [i["value"] for i in first["items"]] == ["occupation"] and second["title"] == "Money"
    assert first["items"][0]["title"] == "Occupation" and first["items"][0]["element_type"] == "SHORT_TEXT"
    funds = second["items"][0]
    assert funds["element_type"] == "MULTIPLE_CHOICE"
    assert funds["answer"]["value"] in ("employment", "biz")


def test_questionnaires_are_per_application_and_survive_a_restart(tmp_path: Path, server: MockServer) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        made = create(http)
        create(http, status="draft")
        listing = http.get("/v3/questionnaires/").json()
        with httpx.Client(base_url=first.url, headers={"x-api-key": new_key()}) as other:
            assert other.get(f"/v3/questionnaires/{made['questionnaire_id']}/").status_code == 404
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get("/v3/questionnaires/").json() == listing
        assert http.get(f"/v3/questionnaires/{made['questionnaire_id']}/").json() == made


def test_every_element_type_answers_within_didits_decision_schema(client: httpx.Client) -> None:
    types = ["short_text", "long_text", "dropdown", "single_choice", "multiple_choice", "number", "image",
             "file_upload", "time", "email", "address", "phone", "country", "date_picker", "consent",
             "section_header", "separator", "heading", "paragraph"]
    elements = [{"element_type": t, "label": {"en": t},
                 **({"options": [{"label": {"en": "A"}}]} if t in ("dropdown", "single_choice", "multiple_choice")
                    else {})} for t in types]
    made = client.post("/v3/questionnaires/", json={"title": "All", "languages": ["en"], "form_elements": elements})
    assert made.status_code == 201, made.text
    assert len(made.json()["graph"]["nodes"]) == len(types)
    step = {"feature": "QUESTIONNAIRE", "config": {"questionnaire_uuid": made.json()["questionnaire_id"]}}
    workflow = client.post("/v3/workflows/", json={"features": [step]}).json()
    session = client.post("/v3/session/", json={"workflow_id": workflow["workflow_id"]}).json()
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()  # the server checks the schema
    answered = [i["element_type"] for s in decision["questionnaire_responses"][0]["sections"] for i in s["items"]]
    assert answered == [t.upper() for t in types if t not in ("section_header", "separator", "heading", "paragraph")]
