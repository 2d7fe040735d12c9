"""Writing a new order: the order and its lines, the other modules' writes that go with it,
and its units and ship slot.

The order's own tables (`redemption_order`, `order_line`) are written here; everything
else is written by the module that owns it, from text it hands over: the debit
(`points.debit_steps`), the units (`stock.reserve_step`), the ship day
(`ShipPlanner.book_step`) and every `OrderEffect` (the deadlines the fulfilment planner
watches, the change notice, ...). On PostgreSQL all of it is one statement, whose steps
this module only puts in order; elsewhere each is a statement of its own.

The rows every order of a hot gift wants, its stock row and its ship day, come last, the
stock row first (the lock order), the day only if the units were there: each is then held
for one round trip and the commit. An order of several gifts reserves after its statement,
warehouse by warehouse (`reserve_and_book`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from models import sql
from models.catalog import stock
from models.catalog.models import Gift, GiftKind
from models.errors import CapacityExhausted, DomainError, OutOfStock
from models.members.models import Member
from models.orders import rules
from models.orders.models import Order, OrderLine, OrderStatus
from models.orders.ports import PLACED, Booking, OrderEffect, ShipPlanner, StartedPayment, alone
from models.points import service as points


@dataclass(frozen=True)
class Draft:
    """An order being placed: the request checked, its member and gifts read."""

    member: Member
    key: str
    fingerprint: str
    lines: list[rules.LineRequest]
    address: rules.Address
    gifts: dict[str, Gift]
    cash: Decimal | None
    currency: str
    now: datetime
    free: bool = False  # a replacement after-sales sends: the same gifts at zero points

    @property
    def quantities(self) -> dict[int, int]:
        """The units a warehouse ships (gift id: quantity): the parcels' lines."""
        return {
            gift.id: line.quantity
            for line in self.lines
            if not (gift := self.gifts[line.sku]).kind.digital
        }

    @property
    def vouchers(self) -> list[int]:
        """The gift ids of the e-voucher lines, in the lines' order (one code each)."""
        return [
            gift.id
            for line in self.lines
            if (gift := self.gifts[line.sku]).kind is GiftKind.E_VOUCHER
        ]

    @property
    def top_ups(self) -> list[int]:
        """The gift ids of the top-up lines, in the lines' order (one credit each)."""
        return [
            gift.id for line in self.lines if (gift := self.gifts[line.sku]).kind is GiftKind.TOP_UP
        ]

    @property
    def digital_only(self) -> bool:
        """Nothing to ship: no warehouse, no ship day, no ship-by promise."""
        return not self.quantities

    @property
    def points(self) -> int:
        if self.free:
            return 0
        return sum(int(self.gifts[line.sku].points_price) * line.quantity for line in self.lines)


@dataclass(frozen=True)
class ReservedAndBooked:
    """What reserving the units and booking the planned day in one warehouse did."""

    reserved: bool
    booked: bool


@dataclass(frozen=True)
class Written:
    order: Order
    lines: list[OrderLine]
    first: ReservedAndBooked | None  # what the order's statement reserved and booked, if tried


def _order(draft: Draft, number: str, booking: Booking | None, *, confirmed: bool) -> Order:
    """The order's row. Without a `booking` (nothing to ship) a confirmed order of codes is
    delivered as it is placed (they are assigned in the same transaction); one with a top-up
    is delivered when its credits land."""
    address = draft.address
    delivered = booking is None and confirmed and not draft.top_ups
    status = OrderStatus.CONFIRMED if confirmed else OrderStatus.AWAITING_PAYMENT
    return Order.construct(
        _saved_in_db=True,
        number=number,
        member_id=draft.member.id,
        status=OrderStatus.DELIVERED if delivered else status,
        idempotency_key=draft.key,
        request_fingerprint=draft.fingerprint,
        warehouse_id=None if booking is None else booking.warehouse.id,
        points_total=draft.points,
        cash_total=draft.cash,
        currency=draft.currency,
        placed_at=draft.now,
        confirmed_at=draft.now if confirmed else None,
        ship_by=booking.deadline if confirmed and booking is not None else None,
        promised_ship_date=None if booking is None else booking.day,
        shipped_at=None,
        delivered_at=draft.now if delivered else None,
        cancelled_at=None,
        cancel_reason="",
        recipient=address.recipient,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        line1=address.line1,
        line2=address.line2,
        postal_code=address.postal_code,
        updated_at=datetime.now(UTC),
    )


ORDER_COLUMNS = (
    "number",
    "member_id",
    "status",
    "idempotency_key",
    "request_fingerprint",
    "warehouse_id",
    "points_total",
    "cash_total",
    "currency",
    "placed_at",
    "confirmed_at",
    "ship_by",
    "promised_ship_date",
    "delivered_at",
    "cancel_reason",
    "recipient",
    "phone",
    "province",
    "city",
    "district",
    "line1",
    "line2",
    "postal_code",
    "updated_at",
)
_ORDER_COLUMNS = ", ".join(ORDER_COLUMNS)


def insert_order_text(p: sql.Params, order: Order) -> str:
    """The order's row; returns every column."""
    values = ", ".join(p(_db_value(getattr(order, column))) for column in ORDER_COLUMNS)
    return f"INSERT INTO redemption_order ({_ORDER_COLUMNS}) VALUES ({values}) RETURNING *"  # noqa: S608 (placeholders, never values)


def _db_value(value: Any) -> Any:
    return value.value if isinstance(value, OrderStatus) else value


LINE_COLUMNS = "order_id, gift_id, sku, name, quantity, points_each, cash_each"
LineRow = tuple[int, str, str, int, int, Decimal | None]


def _line_rows(draft: Draft) -> list[LineRow]:
    rows = []
    for line in draft.lines:
        gift = draft.gifts[line.sku]
        points, cash = (0, None) if draft.free else (gift.points_price, gift.cash_price)
        rows.append((gift.id, line.sku, gift.name, line.quantity, points, cash))
    return rows


def lines_step(p: sql.Params, rows: Sequence[LineRow]) -> str:
    """The lines of the order in `placed`, numbered in the order given (PostgreSQL)."""
    gift, sku, name, quantity, points_each, cash_each = (list(c) for c in zip(*rows, strict=True))
    return f"""INSERT INTO order_line ({LINE_COLUMNS})
    SELECT {PLACED}.id, l.gift_id, l.sku, l.name, l.quantity, l.points_each, l.cash_each
    FROM {PLACED}, unnest({p(gift, "bigint[]")}, {p(sku, "text[]")}, {p(name, "text[]")},
                          {p(quantity, "int[]")}, {p(points_each, "bigint[]")},
                          {p(cash_each, "numeric[]")}) WITH ORDINALITY
         AS l(gift_id, sku, name, quantity, points_each, cash_each, n)
    ORDER BY l.n
    RETURNING id"""  # noqa: S608 (placeholders, never values)


async def write(
    draft: Draft,
    number: str,
    booking: Booking | None,
    *,
    payment: StartedPayment | None,
    planner: ShipPlanner,
    debit: points.Debit | None,
    effects: Sequence[OrderEffect],
) -> Written:
    """Write the order's debit (if any), the order and its lines and every effect.

    On PostgreSQL that is one statement, and an order of one parcel gift also tries to
    reserve its units and book the planned day in it (`Written.first` says what that did).
    Without a `booking` the order ships nothing."""
    order = _order(draft, number, booking, confirmed=payment is None)
    rows = _line_rows(draft)
    effects = (planner.watching, *effects)
    if sql.on_postgres():
        units = draft.quantities if booking is not None and len(draft.quantities) == 1 else {}
        return await _write_postgres(order, rows, units, booking, planner, debit, effects)
    if debit is not None:
        await points.write_debit(debit)
    p = sql.Params()
    order.id = int((await sql.fetch(insert_order_text(p, order), *p.values))[0]["id"])
    written = await sql.insert(
        f"INSERT INTO order_line ({LINE_COLUMNS})",
        [(order.id, *row) for row in rows],
        returning="id",
    )
    line_ids = sorted(int(r["id"]) for r in written)  # one statement numbers rows in order
    for effect in effects:
        await _run_alone(effect, order)
        effect.written(order, postgres=False)
    return Written(order, _lines(order, line_ids, rows), None)


async def _run_alone(effect: OrderEffect, order: Order) -> None:
    """An effect's steps as statements of their own (SQLite), `placed` being the order's row.

    The steps number their placeholders one after the other through one `Params`, and each
    one's last is its `placed` row's id, made just before it runs: every value made so far
    binds it (SQLite binds by number; a statement leaves the numbers it does not use unread).
    """
    p = sql.Params()
    for step in effect.steps(p, order, postgres=False):
        text = alone(p, step, order_id=order.id)
        await sql.execute(text, *p.values)


async def _write_postgres(
    order: Order,
    rows: list[LineRow],
    units: dict[int, int],
    booking: Booking | None,
    planner: ShipPlanner,
    debit: points.Debit | None,
    effects: Sequence[OrderEffect],
) -> Written:
    p = sql.Params()
    steps = [(PLACED, insert_order_text(p, order)), ("lines", lines_step(p, rows))]
    for index, effect in enumerate(effects):
        for part, step in enumerate(effect.steps(p, order, postgres=True)):
            steps.append((f"effect{index}_{part}", step))
    columns = f"{PLACED}.id, array(SELECT id FROM lines ORDER BY id) AS line_ids"  # noqa: S608
    reserve = booking is not None and bool(units)
    if booking is not None and units:
        steps += _reserve_and_book_steps(p, units, booking, planner)
        columns += f", {RESERVED_AND_BOOKED}"
    if debit is not None:
        steps += points.debit_steps(p, debit)
    text = sql.composed(steps, columns=columns, source=PLACED)
    [placed] = await sql.fetch(text, *p.values)
    order.id = int(placed["id"])
    for effect in effects:
        effect.written(order, postgres=True)
    first = ReservedAndBooked(placed["reserved"], placed["booked"]) if reserve else None
    return Written(order, _lines(order, [int(i) for i in placed["line_ids"]], rows), first)


def _lines(order: Order, ids: Sequence[int], rows: Sequence[LineRow]) -> list[OrderLine]:
    return [
        OrderLine.construct(
            _saved_in_db=True,
            id=line_id,
            order_id=order.id,
            gift_id=row[0],
            sku=row[1],
            name=row[2],
            quantity=row[3],
            points_each=row[4],
            cash_each=row[5],
        )
        for line_id, row in zip(ids, rows, strict=True)
    ]


RESERVED_AND_BOOKED = (
    "EXISTS (SELECT 1 FROM reserved) AS reserved, EXISTS (SELECT 1 FROM booked) AS booked"
)


def _reserve_and_book_steps(
    p: sql.Params, units: dict[int, int], booking: Booking, planner: ShipPlanner
) -> list[tuple[str, str]]:
    """An order of one gift's units and its planned day, as steps `reserved` and `booked`
    of a PostgreSQL statement: the day only if the units were there."""
    [(gift_id, quantity)] = units.items()
    warehouse_id = booking.warehouse.id
    return [
        (
            "reserved",
            stock.reserve_step(p, gift_id=gift_id, warehouse_id=warehouse_id, units=quantity),
        ),
        ("booked", planner.book_step(p, booking, only_after="reserved")),
    ]


async def _reserve_and_book_at_once(
    units: dict[int, int], booking: Booking, planner: ShipPlanner
) -> ReservedAndBooked:
    """`_reserve_and_book_steps` as a statement of their own."""
    p = sql.Params()
    steps = _reserve_and_book_steps(p, units, booking, planner)
    [row] = await sql.fetch(sql.composed(steps, columns=RESERVED_AND_BOOKED), *p.values)
    return ReservedAndBooked(row["reserved"], row["booked"])


async def reserve_and_book(
    draft: Draft,
    plans: Sequence[Booking],
    planner: ShipPlanner,
    *,
    first: ReservedAndBooked | None = None,
) -> Booking:
    """Reserve the units and a slot in the best warehouse that still has both.

    Runs in the order's transaction: a warehouse whose slots are full gets its units back at
    once, so nothing is left taken in a warehouse the order does not ship from. `first`:
    what the order's own statement already did in the first plan's warehouse.
    """
    refusal: DomainError = OutOfStock("sold out while ordering", field="lines")
    units = draft.quantities
    at_once = len(units) == 1 and sql.on_postgres()
    for index, plan in enumerate(plans):
        warehouse_id = plan.warehouse.id
        if index == 0 and first is not None:
            done: ReservedAndBooked | None = first
        elif at_once:
            done = await _reserve_and_book_at_once(units, plan, planner)
        else:
            done = None
        if done is not None and done.booked:
            return plan
        if done is not None:
            reserved = done.reserved
        else:
            reserved = await stock.reserve(warehouse_id=warehouse_id, quantities=units)
        if not reserved:
            refusal = OutOfStock("sold out while ordering", field="lines")
            continue
        booking = await planner.book(plan.warehouse, now=draft.now)
        if booking is None:
            await stock.release(warehouse_id=warehouse_id, quantities=units)
            refusal = CapacityExhausted("ship slots filled up", field="lines")
            continue
        return booking
    raise refusal


REBOOK = "UPDATE redemption_order SET warehouse_id = $2, promised_ship_date = $3 WHERE id = $1"


async def rebook(order: Order, booking: Booking) -> None:
    """The slot planned for the order was gone: it ships from where it found room."""
    await sql.execute(REBOOK, order.id, booking.warehouse.id, booking.day)
    order.warehouse_id, order.promised_ship_date = booking.warehouse.id, booking.day
