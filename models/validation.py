"""Input rules shared by the services: lengths, identifiers, amounts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tortoise.models import Model

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
    cleaned = value.strip()
    if len(cleaned) <= max_length and IDENTIFIER.match(cleaned):
        # Letters, digits and a few marks only: neither empty nor holding a control character,
        # so `text` would accept it. The accrual import checks every row of a file here, so
        # the common case skips `text`.
        return cleaned
    cleaned = text(value, field=field, max_length=max_length)
    if not IDENTIFIER.match(cleaned):
        raise InvalidInput(f"{field} may hold letters, digits and . _ : @ / - only", field=field)
    return cleaned


def bounded_int(value: int, *, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}", field=field)
    return value


def moment(value: datetime, *, field: str, label: str | None = None) -> datetime:
    """An instant with a time zone, in UTC; refused when naive or at the calendar's very ends
    (year 1 or 9999 may not convert to UTC at all)."""
    name = label or field
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must include a time zone", field=field)
    if not 1 < value.year < 9999:
        raise InvalidInput(f"{name} is out of range", field=field)
    return value.astimezone(UTC)


def fits(model: type[Model], field: str, value: str) -> bool:
    """Whether `value` could be stored in `model.field`. A longer value matches no row, and
    the ORM refuses even to compare it (ValidationError), so a lookup with it answers "not
    found" without asking the database."""
    max_length: int | None = getattr(model._meta.fields_map[field], "max_length", None)
    return max_length is None or len(value) <= max_length
