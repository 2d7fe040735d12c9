"""Choosing a warehouse and booking its ship slot: the seven-day promise by construction.

A warehouse can take an order if it holds every line and has a working day with room that
ends before the order's deadline. Among those, the earliest free day wins (the parcel
leaves soonest, which keeps the most slack against the deadline); on the same day, the
warehouse with the most units of the order's lines wins (it is least likely to run dry
and split later demand). Booking is a conditional increment of the day's counter, so a
warehouse-day never holds more orders than its capacity, however many requests race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.expressions import F

from fulfilment import calendar
from fulfilment.models import AlertKind, Deadline, ShipDay
from models import sql
from models.catalog import stock
from models.catalog.models import Warehouse
from models.catalog.stock import Offer
from models.orders.models import Order
from models.orders.ports import PLACED, Booking, OrderEffect, alone


def calendar_of(warehouse: Warehouse) -> calendar.WarehouseCalendar:
    return calendar.WarehouseCalendar(
        timezone=warehouse.timezone,
        daily_capacity=warehouse.daily_capacity,
        closed_dates=warehouse.closed_date_set(),
    )


BOOKED = """
SELECT warehouse_id, day, booked FROM ship_day
WHERE warehouse_id IN ({warehouses}) AND day >= $1 AND day <= $2
"""

# The warehouses holding an order's gifts and, in the same rows, their booked days over the
# promise window: `stock.OFFERS` with the ship days joined (a row per day with bookings).
OFFERS_AND_BOOKED = """
SELECT s.gift_id, s.on_hand - s.reserved AS available, w.*,
       d.day AS booked_day, d.booked AS booked_orders
FROM stock s JOIN warehouse w ON w.id = s.warehouse_id
LEFT JOIN ship_day d ON d.warehouse_id = s.warehouse_id AND d.day >= $1 AND d.day <= $2
WHERE s.gift_id IN ({gifts})
"""


def _window(now: datetime, within: timedelta) -> tuple[date, date]:
    """The days a booking made now can fall on, with a day's margin for every time zone."""
    return (now - timedelta(days=1)).date(), (now + within + timedelta(days=1)).date()


async def booked_days(
    warehouse_ids: Sequence[int], *, now: datetime, within: timedelta
) -> dict[int, dict[date, int]]:
    """Orders booked per warehouse and day over the promise window (one query)."""
    booked: dict[int, dict[date, int]] = {w: {} for w in warehouse_ids}
    if not booked:
        return booked
    ids = list(booked)
    text = BOOKED.format(warehouses=sql.listed(len(ids), first=3))
    rows = await sql.fetch(text, *_window(now, within), *ids)
    for row in rows:
        booked[int(row["warehouse_id"])][sql.day(row["day"])] = int(row["booked"])
    return booked


async def promised_days(
    calendars: Mapping[int, calendar.WarehouseCalendar], *, now: datetime, within: timedelta
) -> dict[int, date | None]:
    """The ship day an order placed now would get in each warehouse, by id (None: no room)."""
    booked = await booked_days(list(calendars), now=now, within=within)
    return _promised(calendars, booked, now=now, within=within)


def _promised(
    calendars: Mapping[int, calendar.WarehouseCalendar],
    booked: Mapping[int, Mapping[date, int]],
    *,
    now: datetime,
    within: timedelta,
) -> dict[int, date | None]:
    deadline = calendar.ship_by(now, within=within)
    return {
        warehouse_id: calendar.first_free_day(
            days, now=now, deadline=deadline, booked=booked.get(warehouse_id, {})
        )
        for warehouse_id, days in calendars.items()
    }


async def plan(
    quantities: Mapping[int, int], *, now: datetime, within: timedelta
) -> list[Booking] | None:
    """The slot each warehouse holding every line (gift id: units) would give the order,
    best first: the earliest day, then the most units (one query). None when no warehouse
    holds every line; empty when those that do have no room in time."""
    if not quantities:
        return None
    text = OFFERS_AND_BOOKED.format(gifts=sql.listed(len(quantities), first=3))
    rows = await sql.fetch(text, *_window(now, within), *quantities)
    offers = stock.offers_of(rows, quantities)
    if not offers:
        return None
    booked: dict[int, dict[date, int]] = {}
    for row in rows:
        if row["booked_day"] is not None:
            of_warehouse = booked.setdefault(int(row["id"]), {})
            of_warehouse[sql.day(row["booked_day"])] = int(row["booked_orders"])
    days = _promised(
        {o.warehouse.id: calendar_of(o.warehouse) for o in offers}, booked, now=now, within=within
    )
    return _ranked(offers, days, now=now, within=within)


def _ranked(
    offers: Sequence[Offer], days: Mapping[int, date | None], *, now: datetime, within: timedelta
) -> list[Booking]:
    feasible = [(day, o) for o in offers if (day := days[o.warehouse.id]) is not None]
    feasible.sort(key=lambda pair: (pair[0], -pair[1].units, pair[1].warehouse.code))
    deadline = calendar.ship_by(now, within=within)
    return [
        Booking(warehouse=offer.warehouse, day=day, deadline=deadline) for day, offer in feasible
    ]


async def book(warehouse: Warehouse, *, now: datetime, within: timedelta) -> Booking | None:
    """Book the earliest day with room in this warehouse, or None if every day is full."""
    deadline = calendar.ship_by(now, within=within)
    for day in calendar.candidate_days(calendar_of(warehouse), now=now, deadline=deadline):
        # Most days already have their row: try the booking first, create the row on a miss.
        taken = await _take(warehouse, day)
        if not taken and await _ensure_day(warehouse.id, day):
            taken = await _take(warehouse, day)
        if taken:
            return Booking(warehouse=warehouse, day=day, deadline=deadline)
    return None


def take_text(p: sql.Params, *, warehouse_id: int, day: date, capacity: int) -> str:
    """Book one slot of the day if it has room: the one rule that keeps a warehouse-day
    within its capacity, as a conditional increment (no row changed: full, or no row)."""
    return f"""UPDATE ship_day SET booked = booked + 1
    WHERE warehouse_id = {p(warehouse_id)} AND day = {p(day)} AND booked < {p(capacity)}"""  # noqa: S608 (placeholders, never values)


async def _take(warehouse: Warehouse, day: date) -> int:
    """Book one slot of the day if it has room; 1 if booked, 0 if full or without a row."""
    p = sql.Params()
    text = take_text(p, warehouse_id=warehouse.id, day=day, capacity=warehouse.daily_capacity)
    return await sql.execute(text, *p.values)


async def release(*, warehouse_id: int, day: date) -> None:
    """Give back one booked slot (an order cancelled before it shipped)."""
    await ShipDay.filter(warehouse_id=warehouse_id, day=day, booked__gt=0).update(
        booked=F("booked") - 1
    )


async def _ensure_day(warehouse_id: int, day: date) -> bool:
    """Create the day's row if it has none; whether it had none (so a retry may book)."""
    if await ShipDay.exists(warehouse_id=warehouse_id, day=day):
        return False
    # A concurrent booking may create the same row: keep whichever lands first.
    await ShipDay.bulk_create(
        [ShipDay(warehouse_id=warehouse_id, day=day, booked=0)], ignore_conflicts=True
    )
    return True


def watch_text(p: sql.Params, deadlines: Sequence[tuple[str, datetime]]) -> str:
    """Watch the deadlines (kind, due at) of the order in `placed` (its `id`): the rows the
    sweeper claims when they fall due."""
    due = " UNION ALL ".join(
        f"SELECT {p(kind, 'text')} AS kind, {p(at, 'timestamptz')} AS due_at"
        for kind, at in deadlines
    )
    return f"""INSERT INTO fulfilment_deadline (order_id, kind, due_at)
    SELECT {PLACED}.id, d.kind, d.due_at FROM {PLACED}, ({due}) AS d WHERE true
    ON CONFLICT DO NOTHING"""  # noqa: S608 (placeholders, never values)


@dataclass(frozen=True)
class DeadlineWatch(OrderEffect):
    """A confirmed order's deadlines, watched from the moment it is placed."""

    at_risk: timedelta

    def deadlines(self, ship_by: datetime) -> list[tuple[str, datetime]]:
        return [
            (AlertKind.AT_RISK.value, ship_by - self.at_risk),
            (AlertKind.BREACHED.value, ship_by),
        ]

    def step(self, p: sql.Params, order: Order, *, postgres: bool) -> str | None:
        if order.ship_by is None:  # awaiting payment: its promise starts when paid
            return None
        return watch_text(p, self.deadlines(order.ship_by))


@dataclass(frozen=True)
class Planner:
    """The redemption's view of fulfilment: rank warehouses, book and release slots, watch."""

    within: timedelta = calendar.DEFAULT_SHIP_WITHIN
    at_risk: timedelta = calendar.DEFAULT_AT_RISK_THRESHOLD

    async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> list[Booking] | None:
        return await plan(quantities, now=now, within=self.within)

    async def book(self, warehouse: Warehouse, *, now: datetime) -> Booking | None:
        return await book(warehouse, now=now, within=self.within)

    def book_step(self, p: sql.Params, booking: Booking, *, only_after: str) -> str:
        take = take_text(
            p,
            warehouse_id=booking.warehouse.id,
            day=booking.day,
            capacity=booking.warehouse.daily_capacity,
        )
        return f"{take} AND EXISTS (SELECT 1 FROM {only_after}) RETURNING 1"  # noqa: S608

    async def release(self, order: Order) -> None:
        if order.warehouse_id is not None and order.promised_ship_date is not None:
            await release(warehouse_id=order.warehouse_id, day=order.promised_ship_date)

    @property
    def watching(self) -> DeadlineWatch:
        return DeadlineWatch(self.at_risk)

    async def watch(self, order: Order, *, now: datetime) -> None:
        p = sql.Params()
        step = self.watching.step(p, order, postgres=sql.on_postgres())
        if step is not None:
            await sql.execute(alone(p, step, order_id=order.id), *p.values)

    async def unwatch(self, order: Order) -> None:
        await Deadline.filter(order_id=order.id).delete()
