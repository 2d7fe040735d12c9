"""Pure rules of parcels and carrier scans: carriers' codes, tracking numbers, a scan cleaned,
the latest scan. An order's shipment (fulfilment) and a return (after-sales) are tracked
alike by them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from models import validation
from models.errors import InvalidInput

# What a carrier's scan may report (a parcel handed over is SHIPPED before any scan).
SCAN_STATUSES = frozenset({"IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "EXCEPTION", "RETURNED"})
# Carriers' clocks drift a little; a scan much further ahead than this is a wrong zone or date.
MAX_CLOCK_SKEW = timedelta(minutes=15)
CARRIER = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
TRACKING_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,63}$")


def carrier_code(value: str, *, field: str = "carrier") -> str:
    """A carrier's code, upper-case (`sf` -> `SF`); raises InvalidInput."""
    code = value.strip().upper()
    if not CARRIER.match(code):
        raise InvalidInput(
            "carrier must be 2 to 32 letters, digits, '-' or '_' starting with a letter",
            field=field,
        )
    return code


def tracking_number(value: str, *, field: str = "tracking_number") -> str:
    """A tracking number, upper-case without spaces; raises InvalidInput."""
    number = re.sub(r"\s+", "", value).upper()
    if not TRACKING_NUMBER.match(number):
        raise InvalidInput("tracking number must be 4 to 64 letters, digits or '-'", field=field)
    return number


@dataclass(frozen=True)
class Scan:
    """One carrier scan as reported: what happened to the parcel, where and when."""

    carrier: str
    tracking_number: str
    status: str
    location: str
    description: str
    occurred_at: datetime


def clean_scan(scan: Scan, *, now: datetime, prefix: str = "") -> Scan:
    """The scan normalised (codes upper-case, time in UTC); raises InvalidInput."""
    status = scan.status.strip().upper()
    if status not in SCAN_STATUSES:
        allowed = ", ".join(sorted(SCAN_STATUSES))
        raise InvalidInput(f"status must be one of {allowed}", field=f"{prefix}status")
    at = validation.moment(scan.occurred_at, field=f"{prefix}occurred_at", label="occurredAt")
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput("occurredAt is in the future", field=f"{prefix}occurred_at")
    return replace(
        scan,
        carrier=carrier_code(scan.carrier, field=f"{prefix}carrier"),
        tracking_number=tracking_number(scan.tracking_number, field=f"{prefix}tracking_number"),
        status=status,
        location=validation.text(
            scan.location, field=f"{prefix}location", max_length=200, required=False
        ),
        description=validation.text(
            scan.description, field=f"{prefix}description", max_length=500, required=False
        ),
        occurred_at=at,
    )


def latest(events: Sequence[tuple[datetime, int, str]]) -> str | None:
    """The status of the latest scan by when it happened (then by arrival): the shipment's."""
    if not events:
        return None
    return max(events, key=lambda e: (e[0].astimezone(UTC), e[1]))[2]
