"""Each rule the order's PostgreSQL statement composes has a plain form beside it in its
owner; both forms are fed the same cases and must leave the same rows.

The plain forms run on both databases; the composed forms (a step of another statement) are
PostgreSQL's, so there every case runs both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from fulfilment.models import Deadline, ShipDay
from fulfilment.planning import Planner, take_text
from models import sql
from models.catalog import service as catalog
from models.catalog import stock
from models.catalog.models import Stock, Warehouse
from models.orders import redemption
from models.orders.models import Order
from models.orders.ports import Booking
from models.orders.rules import Address, LineRequest
from models.points import debits, ledger
from models.points import service as points
from models.points.models import EntryKind, LotDraw, PointsAccount, PointsEntry, PointsLot
from tests.support.catalog import plain_gift, plain_warehouse
from tests.support.databases import target
from tests.support.members import member_with_points

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
ADDRESS = Address("王芳", "13800138000", "上海市", "上海市", "黄浦区", "南京东路 1 号", "", "")
pytestmark = pytest.mark.usefixtures("db")


def forms() -> list[str]:
    return ["plain", "composed"] if target() == "postgres" else ["plain"]


async def one_gift_in_one_warehouse(capacity: int = 10) -> tuple[int, int]:
    warehouse = await plain_warehouse("SH01", capacity=capacity)
    gift = await plain_gift("G1")
    return gift.id, warehouse.id


async def alone(step: Callable[[sql.Params], str], outcome: str) -> bool:
    """A step run as the one step of a composed statement; whether `outcome` returned a row."""
    p = sql.Params()
    text = sql.composed([(outcome, step(p))], columns=f"EXISTS (SELECT 1 FROM {outcome}) AS done")
    [row] = await sql.fetch(text, *p.values)
    return bool(row["done"])


STOCK_CASES = [  # on hand, reserved, units wanted: whether they are reserved
    (10, 7, 3, True),
    (10, 8, 3, False),
    (10, 0, 10, True),
    (0, 0, 1, False),
]


@pytest.mark.parametrize("form", forms())
@pytest.mark.parametrize(("on_hand", "reserved", "units", "fits"), STOCK_CASES)
async def test_reserving_units_takes_them_only_if_they_are_there(
    form: str, on_hand: int, reserved: int, units: int, fits: bool
) -> None:
    gift_id, warehouse_id = await one_gift_in_one_warehouse()
    await Stock.create(gift_id=gift_id, warehouse_id=warehouse_id, on_hand=on_hand, reserved=0)
    await Stock.filter(gift_id=gift_id).update(reserved=reserved)
    if form == "plain":
        done = await stock.reserve(warehouse_id=warehouse_id, quantities={gift_id: units})
    else:
        done = await alone(
            lambda p: stock.reserve_step(
                p, gift_id=gift_id, warehouse_id=warehouse_id, units=units
            ),
            "reserved",
        )
    row = await Stock.get(gift_id=gift_id)
    assert done is fits
    assert (row.on_hand, row.reserved) == (on_hand, reserved + units if fits else reserved)


DAY = date(2026, 6, 2)
BOOKING_CASES = [  # capacity, booked already (None: no row yet), whether the day is taken
    (5, 4, True),
    (5, 5, False),
    (1, 0, True),
    (5, None, False),
]


@pytest.mark.parametrize("form", forms())
@pytest.mark.parametrize(("capacity", "booked", "taken"), BOOKING_CASES)
async def test_booking_a_day_never_passes_its_capacity(
    form: str, capacity: int, booked: int | None, taken: bool
) -> None:
    _, warehouse_id = await one_gift_in_one_warehouse(capacity)
    if booked is not None:
        await ShipDay.create(warehouse_id=warehouse_id, day=DAY, booked=booked)
    if form == "plain":
        p = sql.Params()
        done = bool(
            await sql.execute(
                take_text(p, warehouse_id=warehouse_id, day=DAY, capacity=capacity), *p.values
            )
        )
    else:
        warehouse = await Warehouse.get(id=warehouse_id)
        booking = Booking(warehouse, DAY, NOW)
        p = sql.Params()
        steps = [
            ("units", "SELECT 1"),
            ("booked", Planner().book_step(p, booking, only_after="units")),
        ]
        [row] = await sql.fetch(
            sql.composed(steps, columns="EXISTS (SELECT 1 FROM booked) AS done"), *p.values
        )
        done = bool(row["done"])
    assert done is taken
    rows = await ShipDay.filter(warehouse_id=warehouse_id).values_list("booked", flat=True)
    assert rows == ([] if booked is None else [booked + 1 if taken else booked])


@pytest.mark.skipif(target() != "postgres", reason="the composed form is PostgreSQL's")
async def test_a_day_is_not_booked_when_the_units_were_not_there() -> None:
    _, warehouse_id = await one_gift_in_one_warehouse(5)
    await ShipDay.create(warehouse_id=warehouse_id, day=DAY, booked=0)
    warehouse = await Warehouse.get(id=warehouse_id)
    p = sql.Params()
    steps = [
        ("units", "SELECT 1 WHERE false"),
        ("booked", Planner().book_step(p, Booking(warehouse, DAY, NOW), only_after="units")),
    ]
    await sql.fetch(sql.composed(steps, columns="1"), *p.values)
    assert await ShipDay.get(warehouse_id=warehouse_id).values_list("booked", flat=True) == 0


@pytest.mark.parametrize("kind", ["points only", "awaiting payment"])
async def test_deadlines_watched_as_an_order_is_placed_are_those_watched_later(kind: str) -> None:
    """The order's own statement watches its deadlines (composed on PostgreSQL); watching the
    same order again later (the plain form, as a paid order does) writes the same rows."""
    await one_gift_in_one_warehouse()
    await catalog.adjust_stock(sku="G1", warehouse_code="SH01", delta=5, reason="r")
    await member_with_points("SF-1", 1_000)
    request = redemption.RedeemRequest("k", [LineRequest("G1", 1)], ADDRESS)
    placed = await redemption.redeem(
        member_external_id="SF-1", request=request, now=datetime.now(UTC), planner=Planner()
    )
    order = placed.order
    if kind == "awaiting payment":
        await Deadline.filter(order_id=order.id).delete()
        await Order.filter(id=order.id).update(ship_by=None)
        order = await Order.get(id=order.id)
    at_placing = await deadlines(order.id)
    await Deadline.filter(order_id=order.id).delete()
    await Planner().watch(order, now=NOW)
    await Planner().watch(order, now=NOW)  # twice: once
    assert await deadlines(order.id) == at_placing
    if kind == "points only":
        assert order.ship_by is not None
        risk = order.ship_by - timedelta(hours=48)
        assert at_placing == [("AT_RISK", risk), ("BREACHED", order.ship_by)]
    else:
        assert at_placing == []


async def deadlines(order_id: int) -> list[tuple[str, datetime]]:
    rows = await Deadline.filter(order_id=order_id).order_by("due_at")
    return [(d.kind, d.due_at) for d in rows]


DEBIT_CASES = [  # lots (amount, days to expiry), amount debited
    ([(300, 10), (200, 5), (500, 400)], 100),
    ([(300, 10), (200, 5), (500, 400)], 450),
    ([(300, 10), (200, 5), (500, 400)], 1_000),
    ([(50, 30)], 50),
]


@pytest.mark.parametrize(("lots", "amount"), DEBIT_CASES)
async def test_both_forms_of_a_debit_write_the_same_rows(
    lots: list[tuple[int, int]], amount: int
) -> None:
    written = {}
    for form in forms():
        member = f"DB-{form}"
        member_id = await credited(member, lots)
        debit = await debits.plan_debit(
            member_id=member_id,
            kind=EntryKind.REDEEM,
            amount=amount,
            reason="order",
            external_ref=None,
            order_number=f"PM-{form}",
            now=NOW,
        )
        async with in_transaction():
            await ledger.lock_account(member_id=member_id)
            await debits.write_debit(debit, one_statement=form == "composed")
        written[form] = await ledger_rows(member_id)
    plain = written["plain"]
    assert plain["balance"] == sum(a for a, _ in lots) - amount
    assert sum(plain["draws"]) == amount
    assert plain["entries"][-1] == ("REDEEM", -amount, "order")
    assert all(rows == plain for rows in written.values()), written


async def credited(member: str, lots: list[tuple[int, int]]) -> int:
    """The member's id, after crediting one lot per (points, days to expiry)."""
    member_id = 0
    for index, (amount, days) in enumerate(lots):
        credit = await points.award(
            member_external_id=member,
            amount=amount,
            reason="bill",
            external_ref=f"{member}:{index}",
            now=NOW,
            expires_at=NOW + timedelta(days=days),
        )
        member_id = credit.entry.member_id
    return member_id


async def ledger_rows(member_id: int) -> dict[str, Any]:
    """The member's ledger, without ids or the order's number (which differ by form)."""
    lots = await PointsLot.filter(member_id=member_id).order_by("id")
    entries = await PointsEntry.filter(member_id=member_id).order_by("id")
    draws = await LotDraw.filter(lot__member_id=member_id).order_by("lot_id")
    position = {lot.id: index for index, lot in enumerate(lots)}
    return {
        "balance": (await PointsAccount.get(member_id=member_id)).balance,
        "lots": [(lot.amount, lot.remaining, lot.held) for lot in lots],
        "entries": [(e.kind.value, e.delta, e.reason) for e in entries],
        "draws": [d.amount for d in draws],
        "drawn from": [position[d.lot_id] for d in draws],
    }
