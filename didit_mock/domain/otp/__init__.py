"""Standalone phone and email OTP verification (send, check, fraud signals, read-out).

Public surface: `send_phone`, `send_email`, `check_phone`, `check_email`, `code_readout`,
`verification_decision`, `otp_config`, and the request types `PhoneSend`, `EmailSend`, `Check`.
"""

from __future__ import annotations

from .config import OtpConfig, otp_config
from .engine import check_email, check_phone, code_readout, send_email, send_phone
from .records import EMAIL, PHONE, Check, EmailSend, OtpBook, PhoneSend, Verification, book
from .render import verification_decision

__all__ = [
    "EMAIL", "PHONE", "Check", "EmailSend", "OtpBook", "OtpConfig", "PhoneSend", "Verification", "book",
    "check_email", "check_phone", "code_readout", "otp_config", "send_email", "send_phone",
    "verification_decision",
]
