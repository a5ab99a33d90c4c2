"""`GET /_mock/openapi.json`: an OpenAPI 3.1 document of every route the app serves.

The document is generated, so it cannot drift from the code:

* the emulated API is Didit's own description (the vendored document and the additions, in 3.1
  form), one operation per operation of the app's API route (see `api.openapi_api`);
* the other routes (admin API, hosted page, dashboard) come from the app's Starlette routes
  (`{param}` path parameters included), described by `OPERATIONS` (a route module may also
  expose its own `OPERATIONS` dict, merged over these); their request bodies are the JSON schemas
  of the pydantic models the handlers validate with;
* every operation also lists the generic answers of the mock (400, 401, 403, 404, 405, 413, 415, 429).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from ..spec.document import HTTP_METHODS
from ..web.http import json_response
from ..web.lazy_routes import LazyRoutes
from .openapi_api import api_components, api_paths, api_tags

OPENAPI_PATH = "/_mock/openapi.json"
OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
UUID_PARAMS = frozenset({"session_id", "attempt_uuid"})
_CONVERTOR = re.compile(r"\{(\w+)(?::[^}]+)?\}")

#: A request or response body: a pydantic model, a JSON schema, or "module:Model" (resolved lazily,
#: relative to `didit_mock.api`, so this table never imports a route module at import time).
Body = type[BaseModel] | dict[str, Any] | str


@dataclass(frozen=True)
class Operation:
    """What the document says of one (method, path) beyond what the route itself tells."""

    summary: str | None = None
    description: str | None = None
    request: Body | None = None
    #: Status -> body schema (a `Body`), "pdf", "html", or None for a body-less answer.
    responses: dict[int, Body | None] = field(default_factory=dict)
    #: "api_key" (x-api-key), "session_token" (Session-Token) or None (no credential).
    security: str | None = "api_key"
    query: dict[str, dict[str, Any]] = field(default_factory=dict)


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


_STRING = {"type": "string"}
_CLOCK = _object(
    {"now": {"type": "string", "format": "date-time"}, "timestamp": {"type": "number"}, "frozen": {"type": "boolean"}},
    ("now", "timestamp", "frozen"),
)
_TENANT = _object(
    {"api_key": _STRING, "application_id": {"type": "string", "format": "uuid"},
     "environment": {"type": "string", "enum": ["sandbox", "live"]}, "clock": _CLOCK, "seed": {"type": "integer"},
     "settings": {"type": "object"}, "sessions": {"type": "integer"}},
    ("api_key", "application_id", "environment", "clock"),
)
_CODE = _object(
    {"code": _STRING, "attempts_left": {"type": "integer"}, "expires_at": _STRING},
    ("code", "attempts_left", "expires_at"),
)
_COUNTED = _object({"count": {"type": "integer"}, "results": {"type": "array"}}, ("count", "results"))
_OBJECT: dict[str, Any] = {"type": "object"}


def _query(kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {"type": kind, **extra}


#: The seed table of the routes beside the emulated API, keyed by (METHOD, path as in the document).
OPERATIONS: dict[tuple[str, str], Operation] = {
    # admin
    ("GET", OPENAPI_PATH): Operation(summary="This document", security=None, responses={200: _OBJECT}),
    ("GET", "/_mock/tenant"): Operation(summary="The tenant of the x-api-key", responses={200: _TENANT}),
    ("POST", "/_mock/tenants"): Operation(
        summary="Create (or re-create, empty) a tenant with its own settings", request="routes:CreateTenantBody",
        responses={201: _TENANT}),
    ("POST", "/_mock/reset"): Operation(
        summary="Empty the tenant (?all=true: every tenant)", query={"all": _query("boolean")},
        responses={200: _OBJECT}),
    ("GET", "/_mock/clock"): Operation(summary="The tenant clock", responses={200: _CLOCK}),
    ("POST", "/_mock/clock/advance"): Operation(
        summary="Move the tenant clock forward", request="routes:AdvanceBody", responses={200: _CLOCK}),
    ("POST", "/_mock/clock/freeze"): Operation(summary="Freeze the tenant clock", responses={200: _CLOCK}),
    ("POST", "/_mock/clock/set"): Operation(
        summary="Set the tenant clock to an instant", request="routes:SetClockBody", responses={200: _CLOCK}),
    ("POST", "/_mock/clock/real"): Operation(summary="Let the tenant clock follow real time", responses={200: _CLOCK}),
    ("GET", "/_mock/sessions"): Operation(
        summary="The tenant's sessions, oldest first", query={"status": _query(), "vendor_data": _query()},
        responses={200: _COUNTED}),
    ("POST", "/_mock/sessions/{session_id}/complete"): Operation(
        summary="Finish a session as the user would", request="routes:CompleteBody", responses={200: _OBJECT}),
    ("POST", "/_mock/sessions/{session_id}/status"): Operation(
        summary="Put a session in any status", request="routes:ForceStatusBody", responses={200: _OBJECT}),
    ("POST", "/_mock/sessions/{session_id}/start"): Operation(
        summary="The user opened the verification link", responses={200: _OBJECT}),
    ("GET", "/_mock/requests"): Operation(
        summary="The request journal, oldest first",
        query={"method": _query(), "path": _query(), "status": _query(), "since": _query(), "until": _query(),
               "limit": _query("integer", minimum=0)},
        responses={200: _COUNTED}),
    ("DELETE", "/_mock/requests"): Operation(summary="Empty the request journal", responses={200: _OBJECT}),
    ("GET", "/_mock/ratelimits"): Operation(summary="The tenant's rate-limit windows", responses={200: _OBJECT}),
    ("POST", "/_mock/ratelimits"): Operation(
        summary="Switch, scale or pre-fill the tenant's rate limits", request="routes:RateLimitsBody",
        responses={200: _OBJECT}),
    ("GET", "/_mock/webhook"): Operation(summary="The tenant's webhook destination", responses={200: _OBJECT}),
    ("POST", "/_mock/webhook"): Operation(
        summary="Set the tenant's webhook destination", request="webhooks:AdminWebhookBody", responses={200: _OBJECT}),
    ("GET", "/_mock/webhook/faults"): Operation(summary="The injected webhook faults", responses={200: _OBJECT}),
    ("POST", "/_mock/webhook/faults"): Operation(
        summary="Replace the injected webhook faults", request="webhooks:FaultsBody", responses={200: _OBJECT}),
    ("GET", "/_mock/webhooks"): Operation(
        summary="The webhook delivery log",
        query={name: _query() for name in ("session_id", "webhook_type", "status", "event_id", "destination_uuid",
                                           "trigger", "delivered", "failed", "exhausted")},
        responses={200: _COUNTED}),
    ("GET", "/_mock/webhooks/wait"): Operation(
        summary="Wait for a matching webhook delivery (408 on timeout)",
        query={"timeout": _query("number", minimum=0, maximum=300), "count": _query("integer", minimum=1),
               "session_id": _query(), "webhook_type": _query(), "status": _query()},
        responses={200: _OBJECT, 408: _OBJECT}),
    ("POST", "/_mock/webhooks/{attempt_uuid}/replay"): Operation(
        summary="Send a logged delivery again", responses={200: _OBJECT}),
    ("POST", "/_mock/transactions/{uuid}/resolve-action"): Operation(
        summary="Resolve a pending (IN_REVIEW or AWAITING_USER) transaction",
        request="transactions:TransactionResolveBody", responses={200: _OBJECT}),
    ("POST", "/_mock/travel-rule/{transfer_uuid}/advance"): Operation(
        summary="Move a Travel Rule transfer as its counterparty would", request="transactions:TransferAdvanceBody",
        responses={200: _OBJECT}),
    ("GET", "/_mock/travel-rule/{transfer_uuid}/pickup"): Operation(
        summary="The pickup token e-mailed to the counterparty of an EMAIL-rail transfer", responses={200: _OBJECT}),
    ("POST", "/_mock/imports/{import_id}/pause"): Operation(
        summary="Pause a pending or processing session import (PAUSED)", responses={200: _OBJECT, 404: _OBJECT,
                                                                                   409: _OBJECT}),
    ("POST", "/_mock/imports/{import_id}/resume"): Operation(
        summary="Resume a paused session import where it was", responses={200: _OBJECT, 404: _OBJECT, 409: _OBJECT}),
    ("POST", "/_mock/imports/{import_id}/cancel"): Operation(
        summary="Cancel an active session import (CANCELLED)", responses={200: _OBJECT, 404: _OBJECT, 409: _OBJECT}),
    ("GET", "/_mock/phone/codes"): Operation(summary="Fixed phone codes", responses={200: _OBJECT}),
    ("POST", "/_mock/phone/codes"): Operation(
        summary="Fix (or with code null, drop) the code for a phone prefix", request="otp:PhoneCodeBody",
        responses={200: _OBJECT}),
    ("GET", "/_mock/email/codes"): Operation(summary="Fixed email codes", responses={200: _OBJECT}),
    ("POST", "/_mock/email/codes"): Operation(
        summary="Fix (or with code null, drop) the code for an email pattern", request="otp:EmailCodeBody",
        responses={200: _OBJECT}),
    ("GET", "/_mock/phone/{number}/code"): Operation(
        summary="The latest OTP sent to a phone number", responses={200: _CODE}),
    ("GET", "/_mock/email/{address}/code"): Operation(
        summary="The latest OTP sent to an email address", responses={200: _CODE}),
    ("GET", "/_mock/otp/config"): Operation(summary="The tenant's OTP configuration", responses={200: _OBJECT}),
    ("PATCH", "/_mock/otp/config"): Operation(
        summary="Replace the OTP configuration fields named", request="otp:ConfigPatch",
        responses={200: _OBJECT}),
    ("PUT", "/_mock/otp/config"): Operation(
        summary="Replace the OTP configuration fields named", request="otp:ConfigPatch",
        responses={200: _OBJECT}),
    ("POST", "/_mock/otp/config/reset"): Operation(
        summary="Back to the default OTP configuration", responses={200: _OBJECT}),
    # hosted verification page
    ("GET", "/session/{token}"): Operation(summary="The hosted verification page", security=None,
                                           responses={200: "html"}),
    ("POST", "/session/{token}"): Operation(summary="Finish the session from the hosted page", security=None,
                                            responses={303: None, 200: "html"}),
    ("GET", "/{language}/session/{token}"): Operation(summary="The hosted verification page, in a language",
                                                      security=None, responses={200: "html"}),
    ("POST", "/{language}/session/{token}"): Operation(summary="Finish the session from the hosted page",
                                                       security=None, responses={303: None, 200: "html"}),
}

_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
GENERIC_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {"description": "Invalid request: DRF-shaped field errors, a detail, or a bare list of messages.",
            "content": {"application/json": {"schema": {"type": ["object", "array"]}}}},
    "401": {"description": "The API key is refused (`{\"detail\": \"Invalid API Key.\"}` in the docs auth mode).",
            "content": {"application/json": {"schema": _DETAIL}}},
    "403": {"description": "No API key, or not allowed.", "content": {"application/json": {"schema": _DETAIL}}},
    "404": {"description": "Not found: JSON for an unknown object, Django's HTML page for a path the router "
                           "does not match (such as a malformed UUID).",
            "content": {"application/json": {"schema": _DETAIL}, "text/html": {"schema": {"type": "string"}}}},
    "405": {"description": "Method not allowed; the `Allow` header lists the methods of the path.",
            "content": {"application/json": {"schema": _DETAIL}}},
    "413": {"description": "The body is larger than the server's `max_body_bytes`.",
            "content": {"application/json": {"schema": _DETAIL}}},
    "415": {"description": "A body of a media type the API does not parse (JSON, form and multipart are read).",
            "content": {"application/json": {"schema": _DETAIL}}},
    "429": {"description": "Rate limited; `Retry-After` says when to try again.",
            "content": {"application/json": {"schema": _DETAIL}}},
}
SECURITY_SCHEMES = {
    "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "x-api-key",
                   "description": "Any key names a tenant: a fresh key is a fresh, empty sandbox application."},
    "SessionTokenAuth": {"type": "apiKey", "in": "header", "name": "Session-Token",
                         "description": "The `session_token` returned by POST /v3/session/."},
}
_SECURITY = {"api_key": [{"ApiKeyAuth": []}], "session_token": [{"SessionTokenAuth": []}], None: []}


# ---------------------------------------------------------------- route

async def openapi_json(request: Request) -> Response:
    """This document, with `servers` naming the URL it was fetched from.

    Built on the first request, in a worker thread: converting Didit's document takes about a
    second, and the event loop keeps serving meanwhile.
    """
    app = request.app
    document = getattr(app.state, "openapi_document", None)
    if document is None:
        document = await run_in_threadpool(build_document, app)
        app.state.openapi_document = document
    served = {**document, "servers": [{"url": str(request.base_url).rstrip("/")}]}
    return json_response(served)


routes = [Route(OPENAPI_PATH, openapi_json, methods=["GET"], name="mock_openapi")]


# ---------------------------------------------------------------- building

def document_path(route_path: str) -> str:
    """A route path in OpenAPI form: `/{language:didit_language}/x` -> `/{language}/x`."""
    return _CONVERTOR.sub(r"{\1}", route_path)


def route_operations(app: Any) -> list[tuple[str, str, BaseRoute]]:
    """Every (METHOD, document path, route) of the app beside the emulated API (HEAD is implied by
    GET and left out); the API route is documented from the spec."""
    found: list[tuple[str, str, BaseRoute]] = []
    for route in _expanded(app.router.routes):
        if isinstance(route, Route):
            path = document_path(route.path)
            for method in _route_methods(route):
                found.append((method, path, route))
        elif isinstance(route, Mount):
            found.append(("GET", document_path(route.path.rstrip("/")) + "/{path}", route))
    return found


def _expanded(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes, with each module loaded on demand (`LazyRoutes`) standing for its own routes."""
    return [inner for route in routes for inner in (route.routes if isinstance(route, LazyRoutes) else [route])]


def _route_methods(route: Route) -> list[str]:
    methods = set(route.methods or ())
    if not methods:
        endpoint = route.endpoint
        methods = {m for m in METHODS if inspect.isclass(endpoint) and hasattr(endpoint, m.lower())} or {"GET"}
    return [m for m in METHODS if m in methods]


def registered_operations() -> dict[tuple[str, str], Operation]:
    """The seed table, with every route module's own `OPERATIONS` merged over it."""
    from ..app import EAGER_ROUTE_MODULES, ROUTE_MODULES

    merged = dict(OPERATIONS)
    lazy = [importlib.import_module(f"didit_mock.{entry[0]}") for entry in ROUTE_MODULES]
    for module in (*EAGER_ROUTE_MODULES, *lazy):
        if getattr(module, "__name__", None) == __name__:
            continue
        for (method, path), value in (getattr(module, "OPERATIONS", None) or {}).items():
            merged[(method.upper(), path)] = value if isinstance(value, Operation) else Operation(**value)
    return merged


def resolve_body(body: Body | None) -> type[BaseModel] | dict[str, Any] | None:
    """A model class or schema; "module:Model" strings are imported now (None when gone)."""
    if isinstance(body, str):
        module_name, _, name = body.partition(":")
        try:
            module = importlib.import_module(f"{__package__}.{module_name}")
        except ImportError:
            return None
        found = getattr(module, name, None)
        return found if isinstance(found, type) and issubclass(found, BaseModel) else None
    return body


class _Schemas:
    """Collects pydantic models and renders them once into `components.schemas`."""

    def __init__(self) -> None:
        self.models: list[type[BaseModel]] = []
        self.refs: dict[type[BaseModel], dict[str, Any]] = {}
        self.components: dict[str, Any] = {}

    def use(self, body: Body | None) -> dict[str, Any] | None:
        resolved = resolve_body(body)
        if resolved is None:
            return None
        if isinstance(resolved, dict):
            return copy.deepcopy(resolved)
        if resolved not in self.models:
            self.models.append(resolved)
        return {"$model": resolved}

    def finish(self, document: dict[str, Any]) -> None:
        """Render every model used and replace the `$model` placeholders by `$ref`s."""
        if self.models:
            refs, definitions = models_json_schema(
                [(m, "validation") for m in self.models], ref_template=REF_TEMPLATE
            )
            for (model, _), ref in refs.items():
                self.refs[model] = ref
            self.components.update(definitions.get("$defs", {}))
        _replace_models(document, self.refs)


def _replace_models(node: Any, refs: dict[type[BaseModel], dict[str, Any]]) -> None:
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and "$model" in value:
                node[key] = dict(refs[value["$model"]])
            else:
                _replace_models(value, refs)
    elif isinstance(node, list):
        for item in node:
            _replace_models(item, refs)


def build_document(app: Any) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app` (without `servers`, which depend on the request)."""
    from .. import __version__

    paths = api_paths(app.api)
    operation_ids = {op["operationId"] for item in paths.values() for m, op in item.items() if m in HTTP_METHODS}
    for item in paths.values():
        for method in HTTP_METHODS:
            if method in item:
                item[method]["responses"] = _with_generic_answers(item[method]["responses"])
    components = api_components()
    tags = [{"name": tag} for tag in api_tags(paths)]
    registered = registered_operations()
    schemas = _Schemas()
    for method, path, route in route_operations(app):
        declared = registered.get((method, path), Operation())
        item = paths.setdefault(path, {})
        item[method.lower()] = _operation(method, path, route, declared, schemas, operation_ids)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "didit-mock: the Didit Verification API (v3) emulator",
            "version": __version__,
            "description": (
                "Every route didit-mock serves: the emulated Didit API as Didit's own OpenAPI document "
                "describes it (with the operations Didit serves but does not document, marked "
                "`x-didit-mock-addition`, and the ones answered with their documented shape only, marked "
                "`x-didit-mock-shape-only`), the admin API (`/_mock/...`), the hosted verification page "
                "and the dashboard. Any `x-api-key` names a tenant."
            ),
        },
        "tags": [
            *tags,
            {"name": "Admin", "description": "The mock's control surface under /_mock/."},
            {"name": "Hosted page", "description": "The page behind a session's `url`."},
            {"name": "Dashboard", "description": "The HTML dashboard under /_mock/ui."},
        ],
        "paths": paths,
        "components": {
            "schemas": components["schemas"],
            "responses": {**components["responses"], **copy.deepcopy(GENERIC_RESPONSES)},
            "securitySchemes": {**SECURITY_SCHEMES, **components["securitySchemes"]},
        },
    }
    clashes = set(GENERIC_RESPONSES) & set(components["responses"])
    if clashes:
        raise RuntimeError(f"generic answers clash with Didit's response names: {sorted(clashes)}")
    schemas.finish(document)
    clashes = set(schemas.components) & set(document["components"]["schemas"])
    if clashes:
        raise RuntimeError(f"model names clash with Didit's schema names: {sorted(clashes)}")
    document["components"]["schemas"].update(schemas.components)
    return document


DASHBOARD_PREFIX = "/_mock/ui"


def _tag(path: str) -> str:
    if path == DASHBOARD_PREFIX or path.startswith(DASHBOARD_PREFIX + "/"):
        return "Dashboard"
    if path.startswith("/_mock"):
        return "Admin"
    return "Hosted page"


def _operation(
    method: str, path: str, route: BaseRoute, declared: Operation, schemas: _Schemas, operation_ids: set[str],
) -> dict[str, Any]:
    endpoint = getattr(route, "endpoint", None)
    doc = inspect.getdoc(endpoint) if endpoint is not None else None
    summary = declared.summary or (doc.splitlines()[0] if doc else f"{method} {path}")
    operation: dict[str, Any] = {
        "tags": [_tag(path)],
        "summary": summary,
        "operationId": _operation_id(method, route, path, operation_ids),
    }
    description = declared.description or doc
    if description and description != summary:
        operation["description"] = description
    parameters = _path_parameters(path) + _query_parameters(declared)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(declared, schemas)
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = _responses(declared, schemas, html=_tag(path) in ("Dashboard", "Hosted page"))
    operation["security"] = _SECURITY.get(declared.security, [])
    return operation


def _operation_id(method: str, route: BaseRoute, path: str, taken: set[str]) -> str:
    base = getattr(route, "name", None) or re.sub(r"\W+", "_", path).strip("_") or "root"
    candidate = f"{method.lower()}_{base}"
    suffix = 2
    while candidate in taken:
        candidate = f"{method.lower()}_{base}_{suffix}"
        suffix += 1
    taken.add(candidate)
    return candidate


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name in re.findall(r"\{(\w+)\}", path):
        schema: dict[str, Any] = {"type": "string"}
        if name in UUID_PARAMS:
            schema["format"] = "uuid"
        elif name == "language":
            from ..domain.languages import LANGUAGES

            schema["enum"] = list(LANGUAGES)
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(declared: Operation) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "schema": dict(schema)}
            for name, schema in declared.query.items()]


def _request_body(declared: Operation, schemas: _Schemas) -> dict[str, Any] | None:
    schema = schemas.use(declared.request)
    if schema is None:
        return None
    model = resolve_body(declared.request)
    required = bool(model.model_json_schema().get("required")) if isinstance(model, type) else False
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _responses(declared: Operation, schemas: _Schemas, *, html: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, body in declared.responses.items():
        responses[str(status)] = _response(status, body, schemas)
    if not any(status.startswith("2") or status.startswith("3") for status in responses):
        responses["200"] = _response(200, "html", schemas) if html else {
            "description": "OK", "content": {"application/json": {"schema": {}}}}
    return _with_generic_answers(responses)


def _with_generic_answers(responses: dict[str, Any]) -> dict[str, Any]:
    """`responses` with the mock's generic answers for the statuses they leave out, sorted."""
    responses = dict(responses)
    not_found = responses.get("404", {}).get("content")
    if not_found is not None:  # a path the router does not match is Django's HTML page
        not_found.setdefault("text/html", {"schema": {"type": "string"}})
    for status in GENERIC_RESPONSES:
        responses.setdefault(status, {"$ref": f"#/components/responses/{status}"})
    return dict(sorted(responses.items()))


def _response(status: int, body: Body | None, schemas: _Schemas) -> dict[str, Any]:
    if body is None:
        return {"description": "No body" if status == 204 else "Redirect" if 300 <= status < 400 else "OK"}
    if body == "pdf":
        return {"description": "The PDF report",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    if body == "html":
        return {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
    schema = schemas.use(body)
    return {"description": "OK", "content": {"application/json": {"schema": schema if schema is not None else {}}}}
