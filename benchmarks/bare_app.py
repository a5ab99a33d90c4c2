"""The limit of this stack: a bare Starlette app on the same uvicorn settings, answering fixed bytes.

`python -m benchmarks.bare_app PORT` serves it on uvicorn's own httptools protocol;
`--mock-protocol` serves it on didit-mock's (uvicorn's, with head limits and gathered writes), to
tell what the protocol gives from what the app costs.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CREATED = (
    b'{"session_id":"11111111-2222-3333-4444-555555555555","session_number":1,"session_token":"3FaJ9wLqX2Mz",'
    b'"url":"http://127.0.0.1/session/3FaJ9wLqX2Mz","vendor_data":"user-1","metadata":null,"status":"Not Started",'
    b'"callback":null,"workflow_id":"d1d17000-0000-4000-8000-000000000001","workflow_version":1}'
)
DECISION = b'{"session_id":"11111111-2222-3333-4444-555555555555","status":"Approved"}'
FACE_MATCH = (
    b'{"request_id":"11111111-2222-3333-4444-555555555555","face_match":{"status":"Approved","score":97.5,'
    b'"user_image":{"entities":[]},"ref_image":{"entities":[]},"warnings":[]},"vendor_data":null,"metadata":null}'
)


async def create(request: Request) -> Response:
    await request.body()
    return Response(CREATED, status_code=201, media_type="application/json")


async def face_match(request: Request) -> Response:
    await request.body()  # the two images are read, not decoded
    return Response(FACE_MATCH, media_type="application/json")


async def decision(request: Request) -> Response:
    return Response(DECISION, media_type="application/json")


app = Starlette(routes=[
    Route("/v3/session/", create, methods=["POST"]),
    Route("/v3/session/{session_id}/decision/", decision, methods=["GET"]),
    Route("/v3/face-match/", face_match, methods=["POST"]),
    Route("/system/healthcheck", decision, methods=["GET"]),
])

if __name__ == "__main__":
    protocol: object = "httptools"
    if "--mock-protocol" in sys.argv[2:]:
        from didit_mock.http_protocol import server_protocol
        from didit_mock.settings import Settings

        protocol = server_protocol(Settings())
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
                loop="uvloop", http=protocol)  # type: ignore[arg-type]
