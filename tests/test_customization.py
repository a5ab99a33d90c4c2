"""Customization over HTTP: `PATCH /v3/customization/` with JSON fields and multipart logo uploads."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from didit_mock.server import MockServer

BRANDING = "/v3/customization/"


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (37, 103, 255)).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_logo_is_answered_as_a_url_and_can_be_deleted(client: httpx.Client) -> None:
    before = client.get(BRANDING).json()
    assert before["logo_square"] is None and before["logo_rectangular"] is None
    changed = client.patch(BRANDING, files={"image_square": ("square.png", png(64, 64), "image/png"),
                                            "image_rectangular": ("wide.png", png(200, 100), "image/png")},
                           data={"app_public_name": "Acme Verify", "border_radius_buttons": "16"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert "/files/" in body["logo_square"] and "/customization/logo_square/" in body["logo_square"]
    assert ".png?signature=" in body["logo_square"] and ".png?signature=" in body["logo_rectangular"]
    assert (body["app_public_name"], body["border_radius_buttons"]) == ("Acme Verify", 16)  # form fields too
    assert body["color_primary"] == before["color_primary"]
    assert client.get(BRANDING).json() == body

    cleared = client.patch(BRANDING, json={"delete_logo_square": True}).json()
    assert cleared["logo_square"] is None and cleared["logo_rectangular"] == body["logo_rectangular"]
    assert "delete_logo_square" not in cleared


@pytest.mark.parametrize(("send", "errors"), [
    ({"json": {"color_primary": "blue", "color_panel": "#12345"}},
     {"color_primary": ["Invalid color format. Use '#RRGGBB' or '#RRGGBBAA' format."],
      "color_panel": ["Invalid color format. Use '#RRGGBB' or '#RRGGBBAA' format."]}),
    ({"json": {"domain": "verify.acme.dev", "color_primary": "#FFFFFF"}},
     {"domain": ["Manage this field in the Business Console."]}),
    ({"files": {"image_rectangular": ("wide.png", png(64, 64), "image/png")}},
     {"image_rectangular": ["Image aspect ratio must be 2:1. Got 64x64 image dimensions"]}),
    ({"files": {"image_square": ("square.gif", png(64, 64), "image/gif")}},
     {"image_square": ["File extension \u201cgif\u201d is not allowed. Allowed extensions are: png, jpg, jpeg, webp."]}),
    ({"json": {"border_radius_panel": -1}}, {"border_radius_panel": ["Ensure this value is greater than or equal to 0."]}),
    ({"json": {"font_weight": "950"}},
     {"font_weight": ["Font weight 950 is not available for Inter. Available weights are: "
                      "100, 200, 300, 400, 500, 600, 700, 800, 900"]}),
])
def test_a_bad_change_is_refused_and_changes_nothing(client: httpx.Client, send: dict, errors: dict) -> None:
    before = client.get(BRANDING).json()
    refused = client.patch(BRANDING, **send)
    assert refused.status_code == 400
    assert refused.json() == errors
    assert client.get(BRANDING).json() == before


def test_the_branding_is_one_document_per_application_without_an_id(client: httpx.Client) -> None:
    shown = client.get(BRANDING).json()
    assert "uuid" not in shown and shown["font_family"] == "Inter" and shown["callback_seconds"] == 3
    changed = client.patch(BRANDING, json={"font_weight": "700", "color_primary": "#112233"}).json()
    assert "uuid" not in changed and (changed["font_weight"], changed["color_primary"]) == ("700", "#112233")
    assert client.get(BRANDING).json() == changed


def test_each_application_has_its_own_branding(client: httpx.Client, server) -> None:
    client.patch(BRANDING, json={"app_public_name": "Mine"})
    other = httpx.get(server.url + BRANDING, headers={"x-api-key": "sk_test_other_branding"}).json()
    assert other["app_public_name"] != "Mine"


def test_the_branding_survives_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", "sk_test_branding_restart"
    with MockServer(state_file=str(state_file), warm_up=False) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        kept = http.patch(BRANDING, files={"image_square": ("square.png", png(64, 64), "image/png")},
                          data={"color_primary": "#123456"}).json()
        assert kept["logo_square"] is not None
    with MockServer(state_file=str(state_file), warm_up=False) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get(BRANDING).json() == {**kept, "logo_square": kept["logo_square"].replace(first.url, second.url)}
        assert httpx.get(kept["logo_square"].replace(first.url, second.url)).content == png(64, 64)
