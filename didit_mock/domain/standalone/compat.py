"""Compat switches: older answers that Didit's own scripts and smoke suite still expect (§4).

* `age-estimation-liveness-key`: the age-estimation result is also under `liveness`;
* `tiny-id-image-400`: an ID image with no document is Didit's documented
  `400 {"error": "COULD_NOT_RECOGNIZE_DOCUMENT"}` instead of a `200 Declined`;
* `workflow-flat-body`: `POST`/`PATCH /v3/workflows/` also take the older flat body
  (`workflow_type` and `is_*_enabled` flags), mapped to `features` (`domain.workflow_flat_body`).

Switched on for every tenant with `--compat NAME[,NAME]` (`DIDIT_MOCK_COMPAT`), or for one tenant
with `PUT /_mock/standalone/compat {"switches": [...]}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..tenant import Tenant

AGE_ESTIMATION_LIVENESS_KEY = "age-estimation-liveness-key"
TINY_ID_IMAGE_400 = "tiny-id-image-400"
WORKFLOW_FLAT_BODY = "workflow-flat-body"
SWITCHES = (AGE_ESTIMATION_LIVENESS_KEY, TINY_ID_IMAGE_400, WORKFLOW_FLAT_BODY)
#: Where a tenant keeps its switches (`TenantConfig.extra`, which the state file carries).
CONFIG_KEY = "compat"


def enabled(tenant: Tenant, name: str) -> bool:
    return name in (tenant.config.extra.get(CONFIG_KEY) or ())


def unknown(names: list[str]) -> list[str]:
    return [name for name in names if name not in SWITCHES]
