"""The SLA report over shipped, late and open orders; refusals when every slot is taken."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tortoise.expressions import F

from fulfilment import sla
from fulfilment.models import ShipDay
from fulfilment.planning import Planner
from models.catalog.models import Stock
from models.errors import OutOfStock
from models.orders import lifecycle, redemption
from models.orders.models import Order, OrderStatus
from models.orders.ports import Booking
from models.orders.rules import LineRequest
from tests.integration.test_redeem_api import points_of, redeem_input
from tests.support.catalog import gift, small_mall, stock, warehouse
from tests.support.fulfilment import ADDRESS, ADMIN, packed, place, shipped
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token
from tests.support.members import member_with_points


async def report(api: GraphQLClient, auth: str, **variables: Any) -> Any:
    return await api.op("SlaReport", variables, auth=auth)


async def test_the_sla_report_measures_the_promise_for_orders_confirmed_in_the_window(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("SLA1", 500_000)
    t0 = datetime.now(UTC)

    def ago(days: float, hours: float = 0) -> datetime:
        return t0 - timedelta(days=days, hours=hours)

    fast = await place("SLA1", "fast", ("EL-PB10K", 1), now=ago(10))
    slow = await place("SLA1", "slow", ("HM-MUG", 1), now=ago(10, -1))
    await place("SLA1", "breached", ("HM-MUG", 1), now=ago(9))
    await place("SLA1", "at-risk", ("HM-MUG", 1), now=ago(6))
    await place("SLA1", "fine", ("HM-MUG", 1), now=ago(1))
    await place("SLA1", "before", ("HM-MUG", 1), now=ago(20))
    other = await place("SLA1", "gz", ("EL-BUDS", 1), now=ago(5))
    await shipped(fast.number, "SF-FAST", at=ago(9))  # 24 hours, on time
    await shipped(slow.number, "SF-SLOW", at=ago(2))  # 191 hours, a day late
    await shipped(other.number, "SF-GZ", at=ago(4))  # 24 hours, on time
    window = {"from": ago(11).isoformat(), "to": t0.isoformat()}

    sh01 = (await report(api, staff_token("SH01"), warehouseCode="SH01", **window)).data
    assert sh01["slaReport"] == {
        "ordersConfirmed": 5,
        "ordersShipped": 2,
        "shippedOnTime": 1,
        "onTimeRate": 0.5,
        "medianHoursToShip": 107.5,
        "p95HoursToShip": pytest.approx(182.65),
        "openAtRisk": 1,
        "openBreached": 1,
    }
    mine = (await report(api, staff_token("SH01"), warehouseCode=None, **window)).data
    assert mine == sh01, "staff without a code see their own warehouses"
    everything = (await report(api, admin_token(), **window)).data["slaReport"]
    assert (everything["ordersConfirmed"], everything["shippedOnTime"]) == (6, 2)
    assert everything["medianHoursToShip"] == 24.0
    assert everything["p95HoursToShip"] == pytest.approx(174.3)
    assert everything["onTimeRate"] == pytest.approx(0.6667)

    empty = (
        await report(api, admin_token(), **{"from": ago(30).isoformat(), "to": ago(25).isoformat()})
    ).data
    assert empty["slaReport"]["onTimeRate"] is None
    assert empty["slaReport"]["medianHoursToShip"] is None
    assert empty["slaReport"]["ordersConfirmed"] == 0


async def test_the_sla_report_is_for_staff_of_the_warehouse_only(api: GraphQLClient) -> None:
    await small_mall(api)
    window = {"from": "2026-01-01T00:00:00+08:00", "to": "2026-02-01T00:00:00+08:00"}
    other = await report(api, staff_token("SH01"), warehouseCode="GZ01", **window)
    assert other.error_codes == ["FORBIDDEN"]
    assert (await report(api, member_token("C1"), **window)).error_codes == ["FORBIDDEN"]
    assert (await report(api, "", **window)).error_codes == ["UNAUTHENTICATED"]
    unknown = await report(api, admin_token(), warehouseCode="XX99", **window)
    assert unknown.error_codes == ["NOT_FOUND"]
    backwards = {"from": window["to"], "to": window["from"]}
    assert (await report(api, admin_token(), **backwards)).error_codes == ["INVALID_INPUT"]


@pytest.mark.parametrize("warehouse_code", [None, "SH01"])
async def test_the_sla_report_counts_an_order_at_its_deadline_as_breached_not_at_risk(
    api: GraphQLClient, warehouse_code: str | None
) -> None:
    # Open and at risk: unshipped with less than `at_risk` left, strictly; breached: unshipped
    # at or past `ship_by` (it can no longer ship before it). The same cases run on both
    # databases, whose statements differ only in how they compute the percentiles.
    await small_mall(api)
    await member_with_points("SLA2", 500_000)
    now = datetime.now(UTC).replace(microsecond=500_000)
    at_risk, tick = timedelta(hours=48), timedelta(microseconds=1)
    week = timedelta(days=7)

    async def due(key: str, ship_by: datetime) -> Order:
        order = await place("SLA2", key, ("EL-PB10K", 1), now=ship_by - week)
        assert order.ship_by == ship_by
        return order

    await due("due-now", now)  # breached
    await packed((await due("due-before", now - tick)).number)  # breached, PACKED
    await due("just-in", now + tick)  # at risk
    edge_in = await due("risk-edge-in", now + at_risk - tick)  # at risk, PICKING
    await lifecycle.advance(number=edge_in.number, to=OrderStatus.PICKING, actor=ADMIN, now=now)
    await due("risk-edge", now + at_risk)  # neither
    late = await due("shipped-late", now - timedelta(hours=1))  # the window's first instant
    await shipped(late.number, "SF-LATE", at=now - tick)  # neither: shipped
    dropped = await due("cancelled", now - timedelta(minutes=1))
    await lifecycle.cancel(number=dropped.number, actor=ADMIN, now=now, planner=Planner())
    await due("after-the-window", now + week)  # confirmed at the window's end: not counted

    found = await sla.sla_report(
        actor=ADMIN,
        warehouse_code=warehouse_code,
        start=now - week - timedelta(hours=1),
        end=now,
        now=now,
        at_risk=at_risk,
    )

    assert (found.open_breached, found.open_at_risk) == (2, 2)
    assert (found.orders_confirmed, found.orders_shipped, found.shipped_on_time) == (7, 1, 0)
    assert found.median_hours_to_ship == found.p95_hours_to_ship == 168.0 + 1.0


async def test_a_redemption_is_refused_when_every_warehouse_day_is_full(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await warehouse(api, "TINY", capacity=1)
    await gift(api, "TINY-G", 100)
    await stock(api, "TINY-G", "TINY", 20)
    await member_with_points("CAP1", 10_000)
    token = member_token("CAP1")
    for i in range(7):  # one slot a day, on each of the seven days before the deadline
        placed = (await api.op("Redeem", redeem_input(f"k{i}", ("TINY-G", 1)), auth=token)).data
        assert placed["redeem"]["errors"] == [], placed
    before_points = await points_of(api, "CAP1")

    refused = (await api.op("Redeem", redeem_input("k7", ("TINY-G", 1)), auth=token)).data
    assert refused["redeem"]["order"] is None
    assert refused["redeem"]["errors"][0]["code"] == "CAPACITY_EXHAUSTED"
    assert await points_of(api, "CAP1") == before_points
    row = await Stock.get(gift__sku="TINY-G")
    assert (row.on_hand, row.reserved) == (20, 7)
    days = await ShipDay.filter(warehouse__code="TINY").order_by("day")
    assert [d.booked for d in days] == [1] * 7


@dataclass(frozen=True)
class FillsThePlannedDay(Planner):
    """A planner whose plan goes stale at once: another order takes the planned day's last
    slot between the plan and the booking, as happens under a campaign's load."""

    planned: list[date] = field(default_factory=list)

    async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> list[Booking] | None:
        plans = await super().plan(quantities, now=now)
        assert plans
        first = plans[0]
        day, _ = await ShipDay.get_or_create(warehouse_id=first.warehouse.id, day=first.day)
        day.booked = first.warehouse.daily_capacity
        await day.save()
        self.planned.append(first.day)
        return plans


async def test_an_order_whose_planned_day_filled_meanwhile_ships_on_the_day_it_booked(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await warehouse(api, "ONE", capacity=1)
    await gift(api, "ONE-G", 100)
    await stock(api, "ONE-G", "ONE", 5)
    await member_with_points("STALE1", 10_000)
    planner = FillsThePlannedDay()
    request = redemption.RedeemRequest("stale", [LineRequest("ONE-G", 1)], ADDRESS)
    placed = await redemption.redeem(
        member_external_id="STALE1", request=request, now=datetime.now(UTC), planner=planner
    )
    planned = planner.planned[0]
    assert placed.order.promised_ship_date is not None
    assert placed.order.promised_ship_date > planned, "the planned day was full"
    stored = await Order.get(number=placed.order.number)
    assert stored.promised_ship_date == placed.order.promised_ship_date
    booked = {d.day: d.booked for d in await ShipDay.filter(warehouse__code="ONE")}
    assert booked == {planned: 1, placed.order.promised_ship_date: 1}


@dataclass(frozen=True)
class EmptiesThePlannedWarehouse(Planner):
    """A planner whose plan goes stale at once: other orders take the last units of the
    planned warehouse between the plan and the reservation."""

    planned: list[str] = field(default_factory=list)

    async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> list[Booking] | None:
        plans = await super().plan(quantities, now=now)
        assert plans
        first = plans[0].warehouse
        await Stock.filter(warehouse_id=first.id).update(reserved=F("on_hand"))
        self.planned.append(first.code)
        return plans


async def test_an_order_whose_planned_warehouse_sold_out_meanwhile_ships_from_the_next(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await warehouse(api, "BIG", capacity=100)
    await warehouse(api, "SMALL", capacity=100)
    await gift(api, "TWO-G", 100)
    await stock(api, "TWO-G", "BIG", 9)  # the most units: planned first
    await stock(api, "TWO-G", "SMALL", 3)
    await member_with_points("STALE2", 10_000)
    planner = EmptiesThePlannedWarehouse()
    request = redemption.RedeemRequest("stale2", [LineRequest("TWO-G", 2)], ADDRESS)
    placed = await redemption.redeem(
        member_external_id="STALE2", request=request, now=datetime.now(UTC), planner=planner
    )
    assert planner.planned == ["BIG"]
    stored = await Order.get(number=placed.order.number).prefetch_related("warehouse")
    assert stored.warehouse.code == "SMALL"
    held = {s.warehouse_id: (s.on_hand, s.reserved) for s in await Stock.filter(gift__sku="TWO-G")}
    assert sorted(held.values()) == [(3, 2), (9, 9)]  # BIG only as the others left it
    days = await ShipDay.filter(warehouse__code__in=["BIG", "SMALL"], booked__gt=0)
    assert [(d.warehouse_id, d.booked) for d in days] == [(stored.warehouse.id, 1)]


async def test_an_order_whose_only_warehouse_sold_out_meanwhile_takes_nothing(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await warehouse(api, "LAST", capacity=100)
    await gift(api, "LAST-G", 100)
    await stock(api, "LAST-G", "LAST", 1)
    await member_with_points("STALE3", 10_000)
    before = await points_of(api, "STALE3")
    request = redemption.RedeemRequest("stale3", [LineRequest("LAST-G", 1)], ADDRESS)
    with pytest.raises(OutOfStock, match="sold out while ordering"):
        await redemption.redeem(
            member_external_id="STALE3",
            request=request,
            now=datetime.now(UTC),
            planner=EmptiesThePlannedWarehouse(),
        )
    assert await Order.filter(member__external_id="STALE3").count() == 0
    assert await points_of(api, "STALE3") == before
    assert await ShipDay.filter(warehouse__code="LAST", booked__gt=0).count() == 0
