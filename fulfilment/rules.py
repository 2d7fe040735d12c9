"""Pure fulfilment rules: queue order, urgency, compensation, rates; carriers and scans are
the rules of every parcel (`models.parcels`, re-exported here), a return's too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from models.orders.models import OrderStatus
from models.orders.rules import OPEN_STATUSES
from models.parcels import MAX_CLOCK_SKEW as MAX_CLOCK_SKEW
from models.parcels import SCAN_STATUSES as SCAN_STATUSES
from models.parcels import Scan as Scan
from models.parcels import carrier_code as carrier_code
from models.parcels import clean_scan as clean_scan
from models.parcels import latest as latest
from models.parcels import tracking_number as tracking_number
from models.promises import rules as promises
from models.promises.rules import Urgency


def queue_key(ship_by: datetime, order_id: int) -> tuple[datetime, int]:
    """Where an order stands in the work queue: earliest deadline first, then oldest id."""
    return (ship_by.astimezone(UTC), order_id)


def urgency(ship_by: datetime, *, now: datetime, shipped: bool, threshold: timedelta) -> Urgency:
    """How close an order is to its deadline at `now` (at risk and breached are disjoint)."""
    return promises.urgency(ship_by, now=now, kept=shipped, threshold=threshold)


def order_urgency(
    status: OrderStatus, ship_by: datetime | None, *, now: datetime, threshold: timedelta
) -> Urgency | None:
    """An order's urgency at `now`; None while it has no deadline. Urgency ends when the
    order leaves the open statuses: shipped, delivered or cancelled."""
    if ship_by is None:
        return None
    return urgency(ship_by, now=now, shipped=status not in OPEN_STATUSES, threshold=threshold)


def compensation_points(points_total: int, rate: Decimal) -> int:
    """What a breach pays back: `rate` of the order's points, rounded down, at least 1."""
    if rate <= 0:
        raise ValueError(f"compensation rate must be positive, got {rate}")
    owed = (Decimal(points_total) * rate).to_integral_value(rounding=ROUND_FLOOR)
    return max(1, int(owed))


def on_time_rate(shipped: int, on_time: int) -> float | None:
    """Shipped on time out of shipped, None when nothing shipped."""
    return None if shipped == 0 else round(on_time / shipped, 4)
