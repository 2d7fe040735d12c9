"""What the catalog promises: units available, and the day an order placed now would ship
(a parcel) or the minutes within which it is delivered (a digital gift)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fulfilment.calendar import WarehouseCalendar
from fulfilment.planning import promised_days
from models import sql
from models.catalog.models import GiftKind, Warehouse
from models.topups.rules import budget_day
from models.vouchers.reads import CODES_LEFT


@dataclass(frozen=True)
class Availability:
    quantity_available: int
    estimated_ship_by: date | None
    delivered_within_minutes: int | None = None  # a digital gift's; it ships on no day

    @property
    def in_stock(self) -> bool:
        return self.quantity_available > 0


# The gifts' kinds and stock with each warehouse's calendar, read as rows (the catalog page
# reads it for every gift it lists: models were the larger part of its cost). A gift without
# stock rows (every digital one) is one row of nulls beside its kind; an e-voucher's stock is
# its pool's codes left; a top-up's, the credits its day's budget still pays for (without
# a budget, UNBOUNDED).
UNBOUNDED = 999_999
TOP_UPS_LEFT = f"""CASE WHEN g.daily_budget IS NULL THEN {UNBOUNDED}
  ELSE COALESCE((g.daily_budget - COALESCE((SELECT b.spent FROM top_up_budget b
                  WHERE b.gift_id = g.id AND b.day = {{day}}), 0)) / NULLIF(g.face_value, 0), 0)
  END"""  # noqa: S608 (a constant)
STOCK_AND_CALENDARS = """
SELECT g.id AS gift_id, g.kind, s.warehouse_id, s.on_hand - s.reserved AS available,
       w.timezone, w.daily_capacity, w.closed_dates,
       CASE WHEN g.kind = 'E_VOUCHER' THEN {codes_left}
            WHEN g.kind = 'TOP_UP' THEN {top_ups_left} ELSE 0 END AS codes_left
FROM gift g LEFT JOIN stock s ON s.gift_id = g.id LEFT JOIN warehouse w ON w.id = s.warehouse_id
WHERE g.id IN ({gifts})
"""
_CLOSED_DATES = Warehouse._meta.fields_map["closed_dates"]


async def availability(
    gift_ids: Sequence[int], *, now: datetime, within: timedelta, digital_within_minutes: int = 10
) -> list[Availability]:
    """Availability of each gift: two queries whatever the number of gifts.

    A digital gift is delivered within `digital_within_minutes` and ships on no day."""
    if not gift_ids:
        return []
    at, today = f"${len(gift_ids) + 1}", f"${len(gift_ids) + 2}::date"
    text = STOCK_AND_CALENDARS.format(
        gifts=sql.listed(len(gift_ids)),
        codes_left=CODES_LEFT.format(now=at),
        top_ups_left=TOP_UPS_LEFT.format(day=today),
    )
    rows = await sql.fetch(text, *gift_ids, now, budget_day(now))
    stocked = [row for row in rows if row["warehouse_id"] is not None]
    digital = {int(row["gift_id"]) for row in rows if GiftKind(row["kind"]).digital}
    codes = {int(row["gift_id"]): int(row["codes_left"]) for row in rows}
    calendars: dict[int, WarehouseCalendar] = {}
    for row in stocked:
        if (warehouse := int(row["warehouse_id"])) not in calendars:
            calendars[warehouse] = _calendar(row)
    days = await promised_days(calendars, now=now, within=within)
    units: dict[int, int] = {}
    best: dict[int, date] = {}
    for row in stocked:
        available, gift, warehouse = (
            int(row["available"]),
            int(row["gift_id"]),
            int(row["warehouse_id"]),
        )
        if available <= 0 or gift in digital:
            continue
        units[gift] = units.get(gift, 0) + available
        day = days.get(warehouse)
        if day is not None and (gift not in best or day < best[gift]):
            best[gift] = day
    return [
        Availability(codes.get(g, 0), None, digital_within_minutes)
        if g in digital
        else Availability(units.get(g, 0), best.get(g))
        for g in gift_ids
    ]


def _calendar(row: Mapping[str, Any]) -> WarehouseCalendar:
    closed = _CLOSED_DATES.to_python_value(row["closed_dates"])
    return WarehouseCalendar(
        timezone=row["timezone"],
        daily_capacity=int(row["daily_capacity"]),
        closed_dates=frozenset(date.fromisoformat(value) for value in closed),
    )
