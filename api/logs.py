"""Structured JSON logs on stderr."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from api.observability import RequestIdFilter


def configure_logging(level: str) -> None:
    """One JSON line per record; idempotent so tests can build many apps."""
    root = logging.getLogger()
    if any(getattr(h, "_pointsmall", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s", timestamp=True
        )
    )
    handler._pointsmall = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
