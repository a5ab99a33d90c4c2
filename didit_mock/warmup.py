"""Warm-up: load, once per process, what the first finished session and phone send would load.

Faker, its providers, the PDF and image code and phonenumbers' carrier and geocoder data load on
first use (half a second together), which a client with a short timeout would see on its first
call. `start_warm_up` does that work in a daemon thread once the server listens, on a throwaway
registry: no tenant, journal or webhook of the server is touched. It then imports the server's
handler modules and reads Didit's whole document, which the app otherwise loads on the first call
of each family and the first body check.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from .spec.document import api_document

WORKFLOW = "d1d17000-0000-4000-8000-000000000001"
#: The interpreter's switch interval (seconds) while the warm-up runs (Python's default is 0.005).
WARM_UP_SWITCH_INTERVAL = 0.0002
PHONE = "+14155550100"


def warm_up() -> None:
    """Finish and render a session and look a phone number up, on a registry of its own."""
    from .domain.decision.rendering import render_decision
    from .domain.otp.config import OtpConfig
    from .domain.otp.phone_facts import lookup
    from .domain.sessions import NewSession, create_session, finish_session
    from .domain.tenant import TenantRegistry

    tenant = TenantRegistry().get("warm-up")
    assert tenant is not None
    with tenant.lock:
        session, _ = create_session(tenant, NewSession(workflow_id=WORKFLOW, vendor_data="warm-up"))
        finish_session(tenant, session, "Approved")
        render_decision(tenant, session)
    lookup(PHONE, OtpConfig())


def start_warm_up(app: Any = None) -> threading.Thread:
    """Run `warm_up` in a daemon thread, then load `app`'s handler modules (each family's loads on
    its first call otherwise); a failure is logged at debug level and changes nothing else."""

    def run() -> None:
        log = logging.getLogger("didit_mock")
        started = time.perf_counter()
        interval = sys.getswitchinterval()  # another warm-up's, when two overlap: left to that one
        # While it runs, the warm-up hands the interpreter over often, so that a request arriving
        # meanwhile (the first healthcheck, say) waits a fraction of a millisecond, not 5 ms a turn.
        sys.setswitchinterval(min(interval, WARM_UP_SWITCH_INTERVAL))
        try:
            warm_up()
            api = getattr(app, "api", None)
            if api is not None:
                api.handlers.load_all()
                api_document()  # the schemas the first body checks and shapes read
        except Exception:  # a warm-up is an optimisation: never an error for the user
            log.debug("warm-up failed", exc_info=True)
            return
        finally:
            if interval > WARM_UP_SWITCH_INTERVAL:
                sys.setswitchinterval(interval)
        log.debug("warm-up done in %.0f ms", (time.perf_counter() - started) * 1000)

    thread = threading.Thread(target=run, name="didit-mock-warm-up", daemon=True)
    thread.start()
    return thread
