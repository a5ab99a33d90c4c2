"""A face uploaded to a User profile: kept on the user, found by a later face search, its documented
errors (the image named in each), auth by its own profile, and the state file."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
from PIL import Image

from didit_mock.domain import user_faces
from tests.conftest import new_key
from tests.test_durable_state import served
from tests.test_state import free_port

UNKNOWN = "5f1f8c9e-0000-4000-8000-00000000c0de"


def picture(size: int = 200, color: tuple[int, int, int] = (110, 90, 70), kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, kind)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def faces_path(client: httpx.Client, user_id: str) -> str:
    tenant = client.get("/_mock/tenant").json()
    return (f"/v3/organization/{tenant['organization_id']}/application/{tenant['application_id']}"
            f"/vendor-users/by-id/{user_id}/faces/upload/")


def new_user(client: httpx.Client, vendor_data: str = "face-user") -> dict:
    created = client.post("/v3/users/create/", json={"vendor_data": vendor_data, "full_name": "Jane Doe"})
    assert created.status_code == 201, created.text
    return created.json()


def search(client: httpx.Client, image: bytes, **data: str) -> dict:
    response = client.post("/v3/face-search/", data=data, files={"user_image": ("probe.png", image, "image/png")})
    assert response.status_code == 200, response.text
    return response.json()["face_search"]


def test_an_uploaded_face_is_found_by_a_later_face_search(client: httpx.Client) -> None:
    user = new_user(client)
    image = picture()
    assert search(client, image)["total_matches"] == 0
    response = client.post(faces_path(client, user["didit_internal_id"]),
                           json={"image": b64(image), "comment": "Imported from previous KYC provider"})
    assert response.status_code == 201, response.text
    face = response.json()
    assert face["comment"] == "Imported from previous KYC provider" and face["uploaded_by"] == "api"
    assert face["image_url"].startswith("http") and face["created_at"].endswith("Z")
    found = search(client, image)
    assert found["status"] == "Approved" and found["total_matches"] == 1
    match = found["matches"][0]
    assert match["source"] == "imported" and match["session_id"] is None and match["status"] is None
    assert match["vendor_data"] == "face-user" and match["vendor_user_id"] == user["didit_internal_id"]
    assert match["user_details"] == {"full_name": "Jane Doe", "document_type": None, "document_number": None}
    assert match["is_blocklisted"] is False and match["match_image_url"] == face["image_url"]
    # Another photo of the same user (the search names the user's vendor_data) is the same person.
    assert search(client, picture(color=(10, 200, 30)), vendor_data="face-user")["total_matches"] == 1
    # A stranger's photo is not.
    assert search(client, picture(color=(10, 200, 30)))["total_matches"] == 0


def test_a_deleted_users_faces_leave_the_index(client: httpx.Client) -> None:
    user = new_user(client)
    image = picture(color=(1, 2, 3))
    assert client.post(faces_path(client, user["didit_internal_id"]), json={"image": b64(image)}).status_code == 201
    assert client.post("/v3/users/delete/", json={"vendor_data_list": ["face-user"]}).json() == {"deleted": 1}
    assert search(client, image)["total_matches"] == 0


def test_the_comment_defaults_to_empty(client: httpx.Client) -> None:
    user = new_user(client)
    response = client.post(faces_path(client, user["didit_internal_id"]), json={"image": b64(picture(kind="JPEG"))})
    assert response.status_code == 201 and response.json()["comment"] == ""


def test_the_documented_400s_name_the_image(client: httpx.Client) -> None:
    path = faces_path(client, new_user(client)["didit_internal_id"])

    def refused(image: str) -> dict:
        response = client.post(path, json={"image": image})
        assert response.status_code == 400, response.text
        return response.json()

    assert refused("%%% not base64 %%%") == {"image": user_faces.NOT_BASE64}
    assert refused("data:image/png;base64," + b64(picture())) == {"image": user_faces.NOT_BASE64}
    assert refused(b64(b"plain text, not a picture")) == {"image": user_faces.NOT_AN_IMAGE}
    assert refused(b64(b"\x89PNG\r\n\x1a\n" + b"broken")) == {"image": user_faces.NOT_AN_IMAGE}
    assert refused(b64(picture(size=1))) == {"image": user_faces.NO_FACE}
    assert refused(b64(b"\xff\xd8\xff" + bytes(user_faces.MAX_IMAGE_BYTES))) == {"image": user_faces.TOO_LARGE}
    missing = client.post(path, json={"comment": "no image"})
    assert missing.status_code == 400 and missing.json() == {"image": ["This field is required."]}
    assert search(client, picture())["total_matches"] == 0  # nothing was enrolled


def test_at_most_five_faces_per_user(client: httpx.Client) -> None:
    path = faces_path(client, new_user(client)["didit_internal_id"])
    for shade in range(5):
        assert client.post(path, json={"image": b64(picture(color=(shade, 0, 0)))}).status_code == 201
    sixth = client.post(path, json={"image": b64(picture(color=(9, 9, 9)))})
    assert sixth.status_code == 400 and sixth.json() == {"detail": "Maximum of 5 faces per user reached."}


def test_unknown_users_and_other_applications_are_404s(client: httpx.Client) -> None:
    user = new_user(client)
    body = {"image": b64(picture())}
    unknown = client.post(faces_path(client, UNKNOWN), json=body)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not found."}
    path = faces_path(client, user["didit_internal_id"])
    elsewhere = path.replace(client.get("/_mock/tenant").json()["application_id"], UNKNOWN)
    assert client.post(elsewhere, json=body).status_code == 404


def test_a_missing_or_refused_key_is_a_401(client: httpx.Client, anon: httpx.Client, server) -> None:  # type: ignore[no-untyped-def]
    path = faces_path(client, new_user(client)["didit_internal_id"])
    missing = anon.post(path, json={"image": b64(picture())})
    assert missing.status_code == 401 and missing.json() == {"detail": "Authentication credentials were not provided."}
    # Another application's key does not see this user.
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        assert other.post(path, json={"image": b64(picture())}).status_code == 404


def test_uploaded_faces_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    port, key = free_port(), new_key()
    image = picture(color=(33, 66, 99))
    with served(state_file, port, key) as http:
        user = new_user(http)
        assert http.post(faces_path(http, user["didit_internal_id"]), json={"image": b64(image)}).status_code == 201
    with served(state_file, port, key) as http:
        match = search(http, image)["matches"][0]
        assert match["source"] == "imported" and match["vendor_user_id"] == user["didit_internal_id"]
