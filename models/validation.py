"""Input rules shared by the services: lengths, identifiers, amounts."""

from __future__ import annotations

import re

from models.errors import InvalidInput

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    """Trimmed text of at most `max_length` characters, free of control characters."""
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    if CONTROL.search(cleaned):
        raise InvalidInput(f"{field} must not contain control characters", field=field)
    return cleaned


def identifier(value: str, *, field: str, max_length: int = 64) -> str:
    """A code such as a SKU, a customer number or a reference: no spaces, bounded."""
    cleaned = text(value, field=field, max_length=max_length)
    if not IDENTIFIER.match(cleaned):
        raise InvalidInput(f"{field} may hold letters, digits and . _ : @ / - only", field=field)
    return cleaned


def bounded_int(value: int, *, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}", field=field)
    return value
