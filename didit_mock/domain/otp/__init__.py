"""Standalone phone and email OTP verification (send, check, fraud signals, read-out).

Public surface: `send_phone`, `send_email`, `check_phone`, `check_email`, `code_readout`,
`verification_decision`, `otp_config`, and the request types `PhoneSend`, `EmailSend`, `Check`.

Each name loads its module on first use (PEP 562), so that importing one module of the package
(the server imports `render` and `config` at start) does not load the OTP engine with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import OtpConfig, otp_config
    from .engine import check_email, check_phone, code_readout, send_email, send_phone
    from .records import EMAIL, PHONE, Check, EmailSend, OtpBook, PhoneSend, Verification, book
    from .render import verification_decision

#: The module of the package each public name comes from.
HOMES = {
    "OtpConfig": "config", "otp_config": "config",
    "check_email": "engine", "check_phone": "engine", "code_readout": "engine", "send_email": "engine",
    "send_phone": "engine",
    "EMAIL": "records", "PHONE": "records", "Check": "records", "EmailSend": "records", "OtpBook": "records",
    "PhoneSend": "records", "Verification": "records", "book": "records",
    "verification_decision": "render",
}

__all__ = [
    "EMAIL", "PHONE", "Check", "EmailSend", "OtpBook", "OtpConfig", "PhoneSend", "Verification", "book",
    "check_email", "check_phone", "code_readout", "otp_config", "send_email", "send_phone",
    "verification_decision",
]


def __getattr__(name: str) -> Any:
    home = HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found directly from now on
    return value
