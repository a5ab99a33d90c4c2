"""AML monitoring jobs and the screenings toggles created, as a section of the state document
(`extensions.aml_monitoring`); jobs still running are re-armed on the restored clock."""

from __future__ import annotations

from typing import Any

from .aml_monitoring import API, CONSOLE, OUTCOMES, SESSION, Job, Screening, Target, export_state, restore
from .state import Reader, StateInvalid, StateSection, check
from .tenant import Tenant
from .users import BUSINESS, USER

STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")


def _job(r: Reader) -> Job:
    targets = [Target(t.choice("kind", (USER, BUSINESS, SESSION)), t("ref", "str"), t("vendor_data", "str?"))
               for t in r.items("targets")]
    outcomes = r("outcomes", "object")
    for name in OUTCOMES:
        outcomes[name] = check(outcomes.get(name, 0), "int", f"{r.at('outcomes')}.{name}")
    processed = r("processed", "int")
    if not 0 <= processed <= len(targets):
        raise StateInvalid(f"{r.at('processed')}: must be between 0 and the number of targets.")
    return Job(
        job_id=r("job_id", "str"), surface=r.choice("surface", (API, CONSOLE)),
        target_type=r.choice("target_type", (USER, BUSINESS)), is_enabled=r("is_enabled", "bool"),
        targets=targets, estimate=r("estimate", "object"),
        unmatched=[check(u, "str", f"{r.at('unmatched')}[{i}]") for i, u in enumerate(r("unmatched", "list"))],
        created_at=r("created_at", "float"), status=r.choice("status", STATUSES), processed=processed,
        outcomes=outcomes,
        results=[check(x, "object", f"{r.at('results')}[{i}]") for i, x in enumerate(r("results", "list"))],
        error=r("error", "str?"), completed_at=r("completed_at", "float?"), next_step_at=r("next_step_at", "float?"),
    )


def _parse(value: Any, path: str) -> tuple[list[Job], list[Screening]]:
    r = Reader(value, path)
    jobs = [_job(j) for j in r.items("jobs")]
    screenings = [Screening(s("key", "str"), s("enabled", "bool"), s("created_at", "float"), s("billed_at", "float?"))
                  for s in r.items("screenings")]
    return jobs, screenings


def _restore(tenant: Tenant, parsed: tuple[list[Job], list[Screening]]) -> None:
    restore(tenant, *parsed)


AML_MONITORING_SECTION = StateSection("aml_monitoring", export_state, _parse, _restore)
