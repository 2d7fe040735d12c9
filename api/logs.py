"""Structured JSON logs on stderr, with no secrets, tokens, phone numbers or addresses.

Two guards. Libraries that log what they send at DEBUG (tortoise and the database drivers
log SQL with its parameters, so phone numbers and addresses; stripe logs request and
response bodies, so client secrets; websockets and httpx log frames and headers) are kept
at INFO even when LOG_LEVEL is DEBUG. And every line is redacted on its way out: the
configured secrets by value, bearer tokens and JWTs, Stripe keys, client secrets and
signatures, and mobile phone numbers by their shape.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

from api.observability import RequestIdFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
CHATTY_AT_DEBUG = ("tortoise", "aiosqlite", "asyncpg", "stripe", "httpx", "httpcore", "websockets")
REDACTED = "[redacted]"
PATTERNS = [
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+"),  # Stripe secret keys
    re.compile(r"\bwhsec_[A-Za-z0-9]+"),
    re.compile(r"\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),  # client secrets
    re.compile(r"\bv1=[0-9a-f]{16,}"),  # a Stripe-Signature
    re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])"),  # a mainland mobile number
    re.compile(r"(?<![0-9A-Za-z])\+[1-9][0-9]{7,14}(?![0-9])"),  # any number in E.164
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each secret value and each token-, key- or phone-shaped part replaced."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for pattern in PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class RedactingJsonFormatter(JsonFormatter):
    """One JSON line per record, redacted after formatting: message, traceback and extras."""

    def __init__(self, *args: object, secrets: Iterable[str] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """One JSON line per record; idempotent so tests can build many apps."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_pointsmall", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(RequestIdFilter())
        handler._pointsmall = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(RedactingJsonFormatter(FORMAT, timestamp=True, secrets=secrets))
    root.setLevel(level)
    floor = max(logging.getLevelNamesMapping().get(level, logging.INFO), logging.INFO)
    for name in CHATTY_AT_DEBUG:
        logging.getLogger(name).setLevel(floor)
