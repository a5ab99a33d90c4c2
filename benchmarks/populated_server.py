"""A didit-mock server whose tenant already holds N completed sessions (for memory and list benchmarks).

Sessions are made with the same domain functions the HTTP routes call, so the state is exactly what
N create + complete requests leave behind, without spending minutes on the wire.
"""

from __future__ import annotations

import argparse

import uvicorn

from didit_mock.app import create_app
from didit_mock.domain import sessions
from didit_mock.domain.decision.rendering import list_row, render_decision
from didit_mock.domain.workflows import KYC_ID
from didit_mock.settings import Settings

API_KEY = "sk_test_benchmark"
RENDERED = 5000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    settings = Settings(port=args.port, rate_limits=False)
    app = create_app(settings)
    tenant = app.registry.get(API_KEY)
    with tenant.lock:
        for index in range(args.sessions):
            request = sessions.NewSession(workflow_id=KYC_ID, vendor_data=f"user-{index}")
            session, _ = sessions.create_session(tenant, request)
            sessions.finish_session(tenant, session, "Approved")
        # Decisions are rendered on demand and kept in a bounded cache: fill it as a busy run would.
        for session in list(sessions.book(tenant).newest_first())[:RENDERED]:
            render_decision(tenant, session)
            list_row(tenant, session)
    print("ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                loop="uvloop", http="httptools")


if __name__ == "__main__":
    main()
