"""A case blueprint's routing rules: an inactive blueprint takes no case, and an `AUTOMATIC` one
assigns each case opened on it to a member of its `assignee_pool`.

The member chosen is the one holding the fewest active (open or awaiting the user) cases of the
blueprint, the first in the pool among equals; a member holding `max_active_cases` of them is
passed over ("fewer than N cases of this blueprint assigned", as Didit documents the field), and
when every member is full the case stays unassigned.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import DiditError
from ..resources.families import CASES
from ..resources.store import Document, ResourceStore
from .case_log import find_blueprint

ACTIVE_STATES = ("OPEN", "AWAITING_USER")
INACTIVE = "This blueprint is inactive: it takes no new cases."


def active_blueprint(store: ResourceStore, key: Any, field: str) -> Document:
    """A blueprint named in a request that may take cases (400 naming `field` otherwise)."""
    blueprint = find_blueprint(store, key, field)
    if blueprint.get("is_active") is False:
        raise DiditError({field: [INACTIVE]}, 400)
    return blueprint


def automatic_assignee(store: ResourceStore, blueprint: Document) -> str | None:
    """The pool member an `AUTOMATIC` blueprint gives its next case to (None: manual, or all full)."""
    if blueprint.get("assignment_method") != "AUTOMATIC":
        return None
    pool = [str(member) for member in blueprint.get("assignee_pool") or []]
    load = dict.fromkeys(pool, 0)
    for case in store.all(CASES):
        if case.get("status") in ACTIVE_STATES and (case.get("blueprint") or {}).get("uuid") == blueprint["uuid"]:
            holder = (case.get("assigned_to") or {}).get("uuid")
            if holder in load:
                load[holder] += 1
    limit = blueprint.get("max_active_cases")
    free = [member for member in load if limit is None or load[member] < limit]
    return min(free, key=load.__getitem__) if free else None
