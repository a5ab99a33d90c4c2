"""The B2B import ledger as a state section (the entry's `shared_imports`): which shared sessions the
tenant already imported, so a share token is still redeemed once per receiver after a restore."""

from __future__ import annotations

from typing import Any

from .sharing import ImportLedger
from .state import Reader, StateSection
from .tenant import Tenant


def _export(tenant: Tenant) -> dict[str, Any]:
    return {"shared_imports": [
        {"from_application_id": source_app, "session_id": source_id, "clone_id": clone_id}
        for (source_app, source_id), clone_id in tenant.component(ImportLedger).imported.items()
    ]}


def _parse(data: Any, path: str) -> dict[tuple[str, str], str]:
    return {
        (i("from_application_id", "str"), i("session_id", "str")): i("clone_id", "str")
        for i in Reader(data, path).items("shared_imports")
    }


def _restore(tenant: Tenant, imported: dict[tuple[str, str], str]) -> None:
    tenant.component(ImportLedger).imported = dict(imported)


SHARED_IMPORTS_SECTION = StateSection("shared_imports", _export, _parse, _restore, fields=("shared_imports",))
