"""The planner's choice for an order: warehouses holding every line, earliest free day first.

`planning.plan` reads the stock and the booked days in one statement (a row per booked
day), so the same stock row comes back once per day: each must still count once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fulfilment import calendar
from fulfilment.models import ShipDay
from fulfilment.planning import book, calendar_of, plan
from models.catalog import service as catalog
from models.catalog.models import Gift, Warehouse
from tests.support.catalog import plain_gift, plain_warehouse

WITHIN = timedelta(days=7)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a Wednesday morning in Shanghai


async def mall() -> tuple[dict[str, int], dict[str, Warehouse]]:
    """SH01 (2 orders a day) holds A and B; BJ01 (100 a day) holds more A but no B."""
    warehouses = {
        code: await plain_warehouse(code, capacity=capacity)
        for code, capacity in (("SH01", 2), ("BJ01", 100))
    }
    for sku in ("A", "B"):
        await plain_gift(sku)
    for sku, code, units in (("A", "SH01", 5), ("B", "SH01", 5), ("A", "BJ01", 50)):
        await catalog.adjust_stock(sku=sku, warehouse_code=code, delta=units, reason="r")
    gifts = {g.sku: g.id for g in await Gift.all()}
    return gifts, warehouses


def days_of(warehouse: Warehouse) -> list[date]:
    deadline = calendar.ship_by(NOW, within=WITHIN)
    return calendar.candidate_days(calendar_of(warehouse), now=NOW, deadline=deadline)


async def test_an_order_goes_to_a_warehouse_holding_every_line_with_days_booked(db: str) -> None:
    gifts, warehouses = await mall()
    for warehouse in warehouses.values():  # booked days in the window: several rows each
        for _ in range(3):
            assert await book(warehouse, now=NOW, within=WITHIN) is not None
    both = await plan({gifts["A"]: 1, gifts["B"]: 1}, now=NOW, within=WITHIN)
    assert both is not None
    assert [(b.warehouse.code, b.day) for b in both] == [("SH01", days_of(warehouses["SH01"])[1])]
    assert await plan({gifts["B"]: 6}, now=NOW, within=WITHIN) is None


async def test_the_earliest_free_day_wins_then_the_most_units(db: str) -> None:
    gifts, warehouses = await mall()
    sh01, bj01 = warehouses["SH01"], warehouses["BJ01"]
    first = await plan({gifts["A"]: 1}, now=NOW, within=WITHIN)
    assert first is not None
    today = days_of(sh01)[0]
    assert [(b.warehouse.code, b.day) for b in first] == [("BJ01", today), ("SH01", today)]
    await ShipDay.create(warehouse_id=bj01.id, day=today, booked=100)  # BJ01 full today
    later = await plan({gifts["A"]: 1}, now=NOW, within=WITHIN)
    assert later is not None
    assert [(b.warehouse.code, b.day) for b in later] == [
        ("SH01", today),
        ("BJ01", days_of(bj01)[1]),
    ]
    assert all(b.deadline == NOW + WITHIN for b in later)


async def test_no_room_in_time_is_an_empty_plan_not_out_of_stock(db: str) -> None:
    gifts, warehouses = await mall()
    while await book(warehouses["SH01"], now=NOW, within=WITHIN):
        pass
    assert await plan({gifts["A"]: 1, gifts["B"]: 1}, now=NOW, within=WITHIN) == []
    assert [
        b.warehouse.code for b in await plan({gifts["A"]: 1}, now=NOW, within=WITHIN) or []
    ] == ["BJ01"]
