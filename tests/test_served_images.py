"""The image URLs the API answers (branding logos, faces uploaded to a user) are served by the mock at
signed `/files/` links: followed without an API key they give the uploaded bytes and type, until the
image is replaced or deleted; the bytes survive a state export/import and a `--state-file` restart."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image

from didit_mock.server import MockServer, free_port
from tests.conftest import new_key
from tests.test_customization import BRANDING, png
from tests.test_user_faces import b64, faces_path, new_user, picture, search

NOT_FOUND = {"detail": "Not found."}


def fetched(url: str) -> httpx.Response:
    """`url` followed by a plain client: no API key, no base URL."""
    return httpx.get(url, timeout=10)


def assert_served(url: str, data: bytes, media_type: str) -> None:
    response = fetched(url)
    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"] == media_type


def assert_gone(url: str) -> None:
    response = fetched(url)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def webp(size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (250, 10, 10)).save(out, format="WEBP")
    return out.getvalue()


def upload_face(client: httpx.Client, user_id: str, image: bytes) -> dict:
    response = client.post(faces_path(client, user_id), json={"image": b64(image)})
    assert response.status_code == 201, response.text
    return response.json()


# ---------------------------------------------------------------- logos

def test_an_uploaded_logo_is_served_at_its_url_without_an_api_key(client: httpx.Client, server: MockServer) -> None:
    square, wide, icon = png(64, 64), png(200, 100), webp(32)
    body = client.patch(BRANDING, files={"image_square": ("square.png", square, "image/png"),
                                         "image_rectangular": ("wide.png", wide, "image/png"),
                                         "image_favicon": ("icon.webp", icon, "image/webp")}).json()
    application_id = client.get("/_mock/tenant").json()["application_id"]
    for field in ("logo_square", "logo_rectangular", "favicon"):
        assert body[field].startswith(f"{server.url}/files/{application_id}/customization/{field}/")
    assert_served(body["logo_square"], square, "image/png")
    assert_served(body["logo_rectangular"], wide, "image/png")
    assert_served(body["favicon"], icon, "image/webp")
    assert client.get(BRANDING).json()["logo_square"] == body["logo_square"]


def test_a_logo_url_with_a_wrong_signature_or_application_is_a_404(client: httpx.Client, server: MockServer) -> None:
    url = client.patch(BRANDING, files={"image_square": ("square.png", png(64, 64), "image/png")}).json()["logo_square"]
    bare, signature = url.split("?signature=")
    assert_gone(f"{bare}?signature={'0' * len(signature)}")
    assert_gone(bare)
    # Another tenant's application id with this tenant's signature.
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        theirs = other.get("/_mock/tenant").json()["application_id"]
    mine = client.get("/_mock/tenant").json()["application_id"]
    assert_gone(url.replace(f"/files/{mine}/", f"/files/{theirs}/"))


def test_a_replaced_or_deleted_logo_url_is_a_404(client: httpx.Client) -> None:
    first, second = png(64, 64), png(96, 96)
    old = client.patch(BRANDING, files={"image_square": ("a.png", first, "image/png"),
                                        "image_rectangular": ("w.png", png(200, 100), "image/png")}).json()
    new = client.patch(BRANDING, files={"image_square": ("b.png", second, "image/png")}).json()
    assert new["logo_square"] != old["logo_square"]
    assert_gone(old["logo_square"])
    assert_served(new["logo_square"], second, "image/png")
    assert new["logo_rectangular"] == old["logo_rectangular"]  # untouched by the other upload
    cleared = client.patch(BRANDING, json={"delete_logo_square": True}).json()
    assert cleared["logo_square"] is None
    assert_gone(new["logo_square"])
    fetched_rectangular = fetched(old["logo_rectangular"])
    assert fetched_rectangular.status_code == 200  # a JSON change keeps the other logo
    assert client.patch(BRANDING, json={"delete_logo_rectangular": True}).status_code == 200
    assert_gone(old["logo_rectangular"])


# ---------------------------------------------------------------- user faces

def test_an_uploaded_face_is_served_at_its_url_and_its_search_match(client: httpx.Client) -> None:
    user = new_user(client)
    image = picture(kind="JPEG")
    face = upload_face(client, user["didit_internal_id"], image)
    assert "/files/" in face["image_url"] and "signature=" in face["image_url"]
    assert_served(face["image_url"], image, "image/jpeg")
    match = search(client, image)["matches"][0]
    assert match["match_image_url"] == face["image_url"]
    other = picture(color=(5, 6, 7))
    assert_served(upload_face(client, user["didit_internal_id"], other)["image_url"], other, "image/png")


def test_a_face_url_with_a_wrong_signature_is_a_404_and_a_deleted_users_face_is_gone(client: httpx.Client) -> None:
    user = new_user(client, "face-gone")
    url = upload_face(client, user["didit_internal_id"], picture())["image_url"]
    bare, signature = url.split("?signature=")
    assert_gone(f"{bare}?signature={signature[::-1]}")
    assert fetched(url).status_code == 200
    assert client.post("/v3/users/delete/", json={"vendor_data_list": ["face-gone"]}).json() == {"deleted": 1}
    assert_gone(url)


# ---------------------------------------------------------------- state

def test_the_images_survive_a_state_export_and_import(client: httpx.Client) -> None:
    square, face_image = png(48, 48), picture(color=(20, 40, 60))
    logo = client.patch(BRANDING, files={"image_square": ("s.png", square, "image/png")}).json()["logo_square"]
    face = upload_face(client, new_user(client)["didit_internal_id"], face_image)["image_url"]
    document = client.get("/_mock/state").json()
    assert client.post("/_mock/reset").status_code == 200
    assert_gone(logo)
    assert_gone(face)
    imported = client.put("/_mock/state", json=json.loads(json.dumps(document)))
    assert imported.status_code == 200, imported.text
    assert_served(logo, square, "image/png")
    assert_served(face, face_image, "image/png")


def test_the_images_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key, port = tmp_path / "state.json", new_key(), free_port()
    square, face_image = png(64, 64), picture(kind="JPEG")
    with MockServer(state_file=str(state_file), port=port, warm_up=False) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        logo = http.patch(BRANDING, files={"image_square": ("s.png", square, "image/png")}).json()["logo_square"]
        face = upload_face(http, new_user(http)["didit_internal_id"], face_image)["image_url"]
    assert urlsplit(logo).port == port
    with MockServer(state_file=str(state_file), port=port, warm_up=False):
        assert_served(logo, square, "image/png")
        assert_served(face, face_image, "image/jpeg")
