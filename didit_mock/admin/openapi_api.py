"""The emulated API's part of the served OpenAPI document: Didit's own description, in 3.1 form.

Every operation of the app's API route appears as Didit's document (or the additions) states it:
operationId, summary, parameters, request body and responses. Operations of the additions keep
`x-didit-mock-addition: true`; operations the mock answers with their documented shape only (no
rules yet) carry `x-didit-mock-shape-only: true`. Where Didit states no `security`, the
operation's auth profile (the overlay) names it. A further path the mock serves an operation at
(a Django URLconf alias, such as the PDF report without its trailing slash) is documented as a
copy of the operation marked `x-didit-mock-alias-of`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..spec.document import HTTP_METHODS
from ..spec.openapi31 import api_document_31

if TYPE_CHECKING:
    from ..web.api_route import ApiRoute

SHAPE_ONLY_MARK = "x-didit-mock-shape-only"
#: On a further path template of an operation (a Django URLconf alias): the operation it serves.
ALIAS_MARK = "x-didit-mock-alias-of"
#: What the mock says of the API keys it accepts, added to Didit's `ApiKeyAuth`.
API_KEY_NOTE = "Any key names a tenant: a fresh key is a fresh, empty sandbox application."
#: The security scheme of each credential an auth profile of the overlay reads.
_CREDENTIAL_SCHEMES = {"x-api-key": "ApiKeyAuth", "x-transaction-token": "TransactionTokenAuth",
                       "session-token": "SessionTokenAuth", "authorization": "BearerAuth"}


def api_paths(api: ApiRoute) -> dict[str, dict[str, Any]]:
    """The path items of every operation `api` serves (copies: the caller may edit them)."""
    served = {(op.method.lower(), op.path) for op in api.table}
    paths: dict[str, dict[str, Any]] = {}
    for path, item in api_document_31()["paths"].items():
        entry: dict[str, Any] = {}
        for key, value in item.items():
            if key not in HTTP_METHODS:
                entry[key] = copy.deepcopy(value)
            elif (key, path) in served:
                entry[key] = _operation(api, value)
        if any(method in entry for method in HTTP_METHODS):
            paths[path] = entry
    for operation in api.table:
        for number, alias in enumerate(api.placements[operation.operation_id].aliases, start=1):
            source = paths[operation.path]
            aliased = {**copy.deepcopy(source[operation.method.lower()]),
                       "operationId": f"{operation.operation_id}_alias_{number}", ALIAS_MARK: operation.operation_id}
            item = paths.setdefault(alias, {})
            if "parameters" in source:
                item.setdefault("parameters", copy.deepcopy(source["parameters"]))
            item[operation.method.lower()] = aliased
    return paths


def _operation(api: ApiRoute, raw: dict[str, Any]) -> dict[str, Any]:
    operation = copy.deepcopy(raw)
    operation_id = operation["operationId"]
    placement = api.placements[operation_id]
    if not operation.get("tags"):
        operation["tags"] = [placement.family.title]
    if "security" not in operation:  # Didit's document is silent: the overlay's auth profile says
        scheme = _CREDENTIAL_SCHEMES.get(placement.auth.credential or "")
        operation["security"] = [{scheme: []}] if scheme else []
    if api.handlers.kind(operation_id) == "shape":
        operation[SHAPE_ONLY_MARK] = True
    return operation


def api_tags(paths: dict[str, dict[str, Any]]) -> list[str]:
    """The tags of the API operations, in the order they first appear."""
    seen: dict[str, None] = {}
    for item in paths.values():
        for method in HTTP_METHODS:
            for tag in (item.get(method) or {}).get("tags", ()):
                seen.setdefault(tag, None)
    return list(seen)


def api_components() -> dict[str, dict[str, Any]]:
    """Didit's component schemas, responses and security schemes (copies)."""
    components = copy.deepcopy(api_document_31()["components"])
    api_key = components["securitySchemes"].get("ApiKeyAuth")
    if api_key is not None and not api_key.get("description"):
        api_key["description"] = API_KEY_NOTE
    return components
