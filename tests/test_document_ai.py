"""Document AI over HTTP (`POST /v3/document-ai/`): extraction, actions, errors, saving, outcome controls."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
from PIL import Image

from tests.conftest import twice_from_scratch
from tests.test_standalone_faces import PHOTO, TINY, fixture

PAYSLIP = [
    {"key": "employer_name", "name": "Employer name", "type": "text", "required": True},
    {"key": "employee_name", "name": "Employee name", "type": "text", "required": True, "is_full_name": True},
    {"key": "net_pay", "name": "Net pay", "type": "number", "required": True},
    {"key": "pay_date", "name": "Pay date", "type": "date"},
]


def document_ai(client: httpx.Client, document: bytes = PHOTO, name: str = "payslip.png",
                fields: object = PAYSLIP, **data: str) -> httpx.Response:
    form = dict(data)
    if fields is not None:
        form["fields"] = fields if isinstance(fields, str) else json.dumps(fields)
    return client.post("/v3/document-ai/", files={"document": (name, document, "application/octet-stream")},
                       data=form)


def person_name(client: httpx.Client, vendor_data: str) -> str:
    body = document_ai(client, vendor_data=vendor_data, save_api_request="false").json()
    return body["document_ai"]["name_on_document"]


def test_a_readable_document_is_approved_with_typed_values(client: httpx.Client) -> None:
    response = document_ai(client, vendor_data="payee", metadata='{"flow": "onboarding"}')
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"request_id", "document_ai", "vendor_data", "metadata", "created_at"}
    result = body["document_ai"]
    assert result["status"] == "Approved" and result["warnings"] == [] and result["detected_codes"] == []
    data = result["extracted_data"]
    assert list(data) == ["employer_name", "employee_name", "net_pay", "pay_date"]
    assert isinstance(data["employer_name"], str) and data["employer_name"]
    assert data["employee_name"] == result["name_on_document"]
    assert isinstance(data["net_pay"], float) and 1000 <= data["net_pay"] <= 5000
    assert len(data["pay_date"]) == 10 and data["pay_date"][4] == "-"
    assert result["fields"][0] == {"key": "employer_name", "name": "Employer name", "instruction": "",
                                   "type": "text", "required": True, "is_full_name": False}
    assert result["name_match_score"] is None  # nothing expected, nothing compared
    assert body["vendor_data"] == "payee" and body["metadata"] == {"flow": "onboarding"}


def test_the_name_on_the_document_is_the_persons_and_matches_when_expected(client: httpx.Client) -> None:
    name = person_name(client, "sophia")
    first, _, last = name.partition(" ")
    result = document_ai(client, vendor_data="sophia", expected_first_name=first,
                         expected_last_name=last).json()["document_ai"]
    assert result["name_match_score"] == 100.0 and result["status"] == "Approved"
    wrong = document_ai(client, vendor_data="sophia", expected_first_name="Zebedee", expected_last_name="Quux",
                        document_ai_name_mismatch_action="DECLINE").json()["document_ai"]
    assert wrong["status"] == "Declined" and wrong["name_match_score"] < 80
    warning = wrong["warnings"][0]
    assert warning["risk"] == "DOCUMENT_AI_NAME_MISMATCH" and warning["log_type"] == "error"
    assert warning["additional_data"] == {"name_on_document": name, "score": wrong["name_match_score"],
                                          "threshold": 80}
    relaxed = document_ai(client, vendor_data="sophia", expected_first_name="Zebedee", expected_last_name="Quux",
                          document_ai_name_match_score_threshold="0").json()["document_ai"]
    assert relaxed["status"] == "Approved" and relaxed["warnings"] == []


def test_the_default_mismatch_action_only_informs(client: httpx.Client) -> None:
    result = document_ai(client, vendor_data="informed", expected_first_name="Nobody",
                         expected_last_name="Atall").json()["document_ai"]
    assert result["status"] == "Approved"
    assert [(w["risk"], w["log_type"]) for w in result["warnings"]] == [("DOCUMENT_AI_NAME_MISMATCH", "information")]


def test_a_tiny_image_is_unreadable_and_reviewed(client: httpx.Client) -> None:
    result = document_ai(client, TINY).json()["document_ai"]
    assert result["status"] == "In Review"
    assert [(w["risk"], w["log_type"]) for w in result["warnings"]] == [
        ("DOCUMENT_AI_UNREADABLE_DOCUMENT", "warning")]
    assert set(result["extracted_data"].values()) == {None} and result["name_on_document"] is None
    declined = document_ai(client, TINY, document_ai_unreadable_document_action="DECLINE").json()["document_ai"]
    assert declined["status"] == "Declined"


def test_bytes_that_are_not_their_type_are_an_unsupported_file(client: httpx.Client) -> None:
    result = document_ai(client, b"not a picture", name="scan.jpg").json()["document_ai"]
    assert result["status"] == "In Review"
    assert [w["risk"] for w in result["warnings"]] == ["DOCUMENT_AI_UNSUPPORTED_FILE"]
    ignored = document_ai(client, b"junk", name="scan.pdf",
                          document_ai_unsupported_file_action="NO_ACTION").json()["document_ai"]
    assert ignored["status"] == "Approved"
    assert [w["log_type"] for w in ignored["warnings"]] == ["information"]


def test_a_pdf_and_a_zip_are_read(client: httpx.Client) -> None:
    pdf = document_ai(client, b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF", name="payslip.pdf", vendor_data="pdf-user")
    assert pdf.status_code == 200 and pdf.json()["document_ai"]["status"] == "Approved"
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("page1.png", PHOTO)
    zipped = document_ai(client, packed.getvalue(), name="pages.zip", vendor_data="pdf-user").json()["document_ai"]
    assert zipped["status"] == "Approved"
    assert zipped["extracted_data"] == pdf.json()["document_ai"]["extracted_data"]  # the same person's values


def test_an_encrypted_pdf_is_a_400_before_billing(client: httpx.Client) -> None:
    created = client.post("/_mock/tenants", json={"environment": "live", "credits": 1}).json()
    with httpx.Client(base_url=str(client.base_url), headers={"x-api-key": created["api_key"]}) as live:
        locked = document_ai(live, b"%PDF-1.7\n/Encrypt 5 0 R\n%%EOF", name="locked.pdf")
        assert locked.status_code == 400
        assert locked.json() == {"error": "The PDF is encrypted. Please upload a decrypted PDF or a photo instead."}
        assert live.get("/_mock/tenant").json()["settings"]["credits"] == 1


def test_field_and_file_errors(client: httpx.Client) -> None:
    assert document_ai(client, fields="{\"key\": 1}").json() == {"fields": [
        "fields must be a valid JSON array string."]}
    assert document_ai(client, fields="fields[0][key]=a").json() == {"fields": [
        "fields must be a valid JSON array string."]}
    twice = [{"key": "a"}, {"key": "a"}]
    assert document_ai(client, fields=twice).json() == {"fields": ["Every fields item must have a unique key."]}
    assert document_ai(client, fields=[{"key": "Bad Key"}]).status_code == 400
    assert document_ai(client, fields=[{"key": "a", "type": "money"}]).json() == {"fields": [
        'fields[0].type: "money" is not a valid choice.']}
    assert document_ai(client, fields=[]).status_code == 400
    assert document_ai(client, fields=[{"key": f"k{i}"} for i in range(31)]).status_code == 400
    two_names = [{"key": "a", "is_full_name": True}, {"key": "b", "is_full_name": True}]
    assert document_ai(client, fields=two_names).status_code == 400
    assert document_ai(client, fields=None).json() == {"fields": ["This field is required."]}
    both = document_ai(client, expected_first_name="Ann", expected_company_name="Acme")
    assert both.json() == {"non_field_errors": [
        "Provide either person expected-name fields or expected_company_name, not both."]}
    assert document_ai(client, metadata="[1]").json() == {"metadata": ["Metadata must be a JSON object."]}
    assert document_ai(client, vendor_data="x" * 2001).json() == {
        "vendor_data": ["vendor_data is too long (maximum 2000 bytes)."]}
    assert document_ai(client, b"hello", name="notes.txt").json() == {"document": [
        "File extension \u201ctxt\u201d is not allowed. Allowed extensions are: tiff, jpg, jpeg, png, pdf, webp, "
        "zip."]}
    assert document_ai(client, document_ai_document_tampering_action="MAYBE").json() == {
        "document_ai_document_tampering_action": ['"MAYBE" is not a valid choice.']}
    assert client.post("/v3/document-ai/", data={"fields": json.dumps(PAYSLIP)}).json() == {
        "document": ["No file was submitted."]}


def test_no_key_is_a_403(anon: httpx.Client) -> None:
    response = document_ai(anon)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_the_same_call_gives_the_same_bytes_on_the_same_seed(server, api_key: str) -> None:
    answers = twice_from_scratch(server, api_key, lambda http: document_ai(
        http, vendor_data="same", expected_first_name="A", expected_last_name="B").content)
    assert answers[0] == answers[1]


def test_a_saved_call_is_an_api_session_with_its_decision(client: httpx.Client) -> None:
    client.post("/_mock/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    body = document_ai(client, vendor_data="kept").json()
    request_id = body["request_id"]
    listed = client.get("/v3/sessions/", params={"session_type": "API", "api_service": "DOCUMENT_AI"}).json()
    assert [row["session_id"] for row in listed["results"]] == [request_id]
    decision = client.get(f"/v3/session/{request_id}/decision/").json()
    assert decision["features"] == ["DOCUMENT_AI"] and decision["status"] == "Approved"
    group = decision["document_ai_documents"][0]
    assert group["status"] == "Approved" and group["node_id"] == "default"
    assert group["items"][0]["extracted_data"] == body["document_ai"]["extracted_data"]
    assert group["items"][0]["original_filename"] == "payslip.png"
    sent = client.get("/_mock/webhooks").json()
    assert {(d["session_id"], d["webhook_type"]) for d in sent["results"] + sent["pending"]} == {
        (request_id, "status.updated")}


def test_an_unsaved_call_leaves_nothing_but_is_billed(client: httpx.Client) -> None:
    created = client.post("/_mock/tenants", json={"environment": "live", "credits": 1}).json()
    with httpx.Client(base_url=str(client.base_url), headers={"x-api-key": created["api_key"]}) as live:
        body = document_ai(live, save_api_request="false").json()
        assert body["document_ai"]["status"] == "Approved"
        assert live.get("/v3/sessions/").json()["count"] == 0
        assert live.get(f"/v3/session/{body['request_id']}/decision/").status_code == 404
        refused = document_ai(live)
        assert refused.status_code == 403
        assert refused.json() == {"error": "You don't have enough credits to perform this request. Please top up "
                                           "at https://business.didit.me"}


def test_armed_outcomes_and_directives(client: httpx.Client) -> None:
    armed = client.post("/_mock/standalone/document-ai/outcomes", json={"scenario": "missing:net_pay"})
    assert armed.status_code == 201, armed.text
    missing = document_ai(client).json()["document_ai"]
    assert missing["status"] == "In Review" and missing["extracted_data"]["net_pay"] is None
    assert missing["warnings"][0]["additional_data"] == {"missing_fields": ["Net pay"]}
    client.post("/_mock/standalone/document-ai/outcomes", json={"scenario": "tampered", "vendor_data": "forger"})
    assert document_ai(client, vendor_data="honest").json()["document_ai"]["status"] == "Approved"
    tampered = document_ai(client, vendor_data="forger").json()["document_ai"]
    assert tampered["status"] == "Declined"
    assert tampered["warnings"][0]["additional_data"] == {"detection_method": "known_editor",
                                                          "processed_by_known_editor": "ilovepdf"}
    client.post("/_mock/standalone/document-ai/outcomes", json={"status": "Declined"})
    assert document_ai(client).json()["document_ai"]["status"] == "Declined"
    assert document_ai(client).json()["document_ai"]["status"] == "Approved"


def test_a_fixture_image_picks_the_person_and_the_outcome(client: httpx.Client) -> None:
    marked = fixture(client, "id-front", person="fixture-person", scenario="tampered")
    result = document_ai(client, marked).json()["document_ai"]
    assert result["status"] == "Declined"
    assert result["name_on_document"] == person_name(client, "fixture-person")
    image = Image.open(io.BytesIO(marked))
    assert image.size == (256, 256)
