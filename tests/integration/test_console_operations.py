"""The staff console's operations (tests/clients/console.graphql), each run as its comment says.

Queries and mutations go to the in-process app; the subscriptions run in-process too (the
browser tests run them over graphql-transport-ws from the console itself).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from api.wiring import SweepPolicy
from api.worker import sweep
from fulfilment.planning import Planner
from models.actors import Actor, Role
from models.events import ALERTS, ORDERS
from models.orders import lifecycle
from models.orders.models import OrderStatus
from tests.integration.test_live_updates import following, next_data, notices
from tests.support.catalog import small_mall
from tests.support.fulfilment import ADMIN, place
from tests.support.graphql import (
    GraphQLClient,
    admin_token,
    member_token,
    operation,
    staff_token,
    token,
)
from tests.support.members import member_with_points

__all__ = ["notices"]  # the fixture, shared with the live-update tests

STAFF_SH = Actor(Role.WAREHOUSE, "staff-1", frozenset({"SH01"}))


async def test_sign_in_names_the_staff_members_warehouses_and_refuses_others(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    mine = await api.op("StationWarehouses", auth=token("warehouse", "s", ("SH01", "XX99")))
    assert mine.data["myWarehouses"] == [
        {"code": "SH01", "name": "Warehouse SH01", "timezone": "Asia/Shanghai"}
    ], "a code that names no warehouse is left out"
    every = await api.op("StationWarehouses", auth=admin_token())
    assert [w["code"] for w in every.data["myWarehouses"]] == ["GZ01", "SH01"]
    expired = token("warehouse", "s", ("SH01",), ttl=-3600)
    for auth, code in [(None, "UNAUTHENTICATED"), (expired, "UNAUTHENTICATED")]:
        assert (await api.op("StationWarehouses", auth=auth)).error_codes == [code]
    member = await api.op("StationWarehouses", auth=member_token("LV1"))
    assert member.error_codes == ["FORBIDDEN"]


async def test_a_scanned_order_is_picked_packed_and_shipped_and_leaves_the_queue(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("LV1", 100_000)
    order = await place("LV1", "k1", ("HM-MUG", 1))
    staff = staff_token("SH01")
    queue = await api.op("StationQueue", {"warehouseCode": "SH01", "first": 100}, auth=staff)
    nodes = [e["node"] for e in queue.data["fulfilmentQueue"]["edges"]]
    assert [n["number"] for n in nodes] == [order.number]
    assert nodes[0]["lines"] == [
        {"sku": "HM-MUG", "name": "Thermos Mug", "quantity": 1, "kind": "PHYSICAL"}
    ]
    opened = await api.op("StationOrderByNumber", {"number": order.number}, auth=staff)
    assert opened.data["order"]["status"] == "CONFIRMED"
    assert opened.data["order"]["atRisk"] is False
    steps = [("StationStartPicking", "startPicking"), ("StationMarkPacked", "markPacked")]
    for name, field in steps:
        moved = await api.op(name, {"input": {"orderNumber": order.number}}, auth=staff)
        assert moved.data[field]["errors"] == []
    ship = {"orderNumber": order.number, "carrier": "SF", "trackingNumber": "SF1000001"}
    shipped = await api.op("StationShip", {"input": ship}, auth=staff)
    assert shipped.data["shipOrder"]["order"]["shipment"] == {
        "carrier": "SF",
        "trackingNumber": "SF1000001",
        "status": "SHIPPED",
    }
    queue = await api.op("StationQueue", {"warehouseCode": "SH01", "first": 100}, auth=staff)
    assert queue.data["fulfilmentQueue"]["totalCount"] == 0


async def test_the_station_sees_the_errors_it_shows(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("LV1", 100_000)
    first = await place("LV1", "k1", ("HM-MUG", 1))
    second = await place("LV1", "k2", ("HM-MUG", 1))
    theirs = await place("LV1", "k3", ("EL-BUDS", 1))  # GZ01's
    staff = staff_token("SH01")
    assert (await api.op("StationOrderByNumber", {"number": theirs.number}, auth=staff)).data == {
        "order": None
    }
    refused = await api.op(
        "StationStartPicking", {"input": {"orderNumber": theirs.number}}, auth=staff
    )
    assert [e["code"] for e in refused.data["startPicking"]["errors"]] == ["NOT_FOUND"]
    early = await api.op("StationMarkPacked", {"input": {"orderNumber": first.number}}, auth=staff)
    assert [e["code"] for e in early.data["markPacked"]["errors"]] == ["INVALID_TRANSITION"]
    for number in (first.number, second.number):
        for step in (OrderStatus.PICKING, OrderStatus.PACKED):
            await lifecycle.advance(number=number, to=step, actor=ADMIN, now=datetime.now(UTC))
    ship = {"orderNumber": first.number, "carrier": "SF", "trackingNumber": "SF2000001"}
    assert (await api.op("StationShip", {"input": ship}, auth=staff)).data["shipOrder"][
        "errors"
    ] == []
    again = await api.op(
        "StationShip", {"input": {**ship, "orderNumber": second.number}}, auth=staff
    )
    assert [e["code"] for e in again.data["shipOrder"]["errors"]] == ["DUPLICATE_TRACKING_NUMBER"]


async def test_the_figures_count_today_and_the_open_orders_at_risk(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("LV1", 100_000)
    now = datetime.now(UTC)
    await place("LV1", "old", ("HM-MUG", 1), now=now - timedelta(days=6))  # under 48 h left
    await place("LV1", "new", ("HM-MUG", 1), now=now)
    window = {
        "warehouseCode": "SH01",
        "dayStart": (now - timedelta(hours=1)).isoformat(),
        "since": (now - timedelta(days=30)).isoformat(),
        "until": (now + timedelta(minutes=1)).isoformat(),
    }
    figures = (await api.op("StationFigures", window, auth=staff_token("SH01"))).data
    assert figures["today"] == {
        "ordersConfirmed": 1,
        "ordersShipped": 0,
        "shippedOnTime": 0,
        "onTimeRate": None,
    }
    assert figures["recent"] == {"onTimeRate": None, "openAtRisk": 1, "openBreached": 0}
    refused = await api.op("StationFigures", window, auth=staff_token("GZ01"))
    assert set(refused.error_codes) == {"FORBIDDEN"}


async def test_the_live_queue_sends_each_order_of_the_warehouse_as_it_arrives_and_moves(
    api: GraphQLClient, notices: None
) -> None:
    await small_mall(api)
    await member_with_points("LV1", 100_000)
    variables = {"warehouseCode": "SH01"}
    async with following("StationQueueChanged", variables, STAFF_SH, ORDERS) as changes:
        await place("LV1", "gz", ("EL-BUDS", 1))  # GZ01's: not sent to SH01
        order = await place("LV1", "sh", ("HM-MUG", 1))
        seen: list[dict[str, Any]] = [(await next_data(changes))["fulfilmentQueueChanged"]]
        await lifecycle.advance(
            number=order.number, to=OrderStatus.PICKING, actor=STAFF_SH, now=datetime.now(UTC)
        )
        seen.append((await next_data(changes))["fulfilmentQueueChanged"])
        await asyncio.sleep(0.2)
        assert changes.empty(), "nothing else was sent"
    assert [(s["number"], s["status"]) for s in seen] == [
        (order.number, "CONFIRMED"),
        (order.number, "PICKING"),
    ]
    assert seen[0]["shippingAddress"]["recipient"] == "王芳"


async def test_the_live_queue_is_for_staff_of_that_warehouse(
    api: GraphQLClient, notices: None
) -> None:
    from tests.support.fulfilment import subscribe

    await small_mall(api)
    cases = [
        (STAFF_SH, "GZ01", "FORBIDDEN"),
        (Actor(Role.MEMBER, "LV1"), "SH01", "FORBIDDEN"),
        (None, "SH01", "UNAUTHENTICATED"),
        (Actor(Role.ADMIN, "a"), "XX99", "NOT_FOUND"),
    ]
    for actor, code, error in cases:
        results = subscribe(operation("StationQueueChanged"), {"warehouseCode": code}, actor)
        async for result in results:
            assert [e.extensions["code"] for e in result.errors] == [error]


async def test_the_station_hears_its_warehouses_alerts(api: GraphQLClient, notices: None) -> None:
    await small_mall(api)
    await member_with_points("LV1", 100_000)
    order = await place("LV1", "sh", ("HM-MUG", 1))
    now = datetime.now(UTC) + timedelta(days=8)
    variables = {"warehouseCode": "SH01"}
    async with following("StationAlerts", variables, STAFF_SH, ALERTS) as alerts:
        await sweep(now=now, planner=Planner(), policy=SweepPolicy())
        received = [(await next_data(alerts))["fulfilmentAlerts"] for _ in range(2)]
    assert sorted(a["kind"] for a in received) == ["AT_RISK", "BREACHED"]
    assert {a["order"]["number"] for a in received} == {order.number}


async def test_a_resync_sends_the_orders_changed_while_notices_were_lost_once(
    api: GraphQLClient,
) -> None:
    from fulfilment import live
    from models.events import RESYNC, InProcessBus

    await small_mall(api)
    await member_with_points("LV1", 100_000)
    deaf = InProcessBus()  # hears none of the changes below, as after a dropped LISTEN
    changes = live.warehouse_order_changes(warehouse_code="SH01", now=datetime.now(UTC), bus=deaf)
    first = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.05)  # listening
    order = await place("LV1", "sh", ("HM-MUG", 1))
    await place("LV1", "gz", ("EL-BUDS", 1))
    deaf.deliver(ORDERS, RESYNC)
    missed = await asyncio.wait_for(first, 5)
    assert (missed.number, missed.status) == (order.number, OrderStatus.CONFIRMED)
    again = asyncio.ensure_future(anext(changes))
    deaf.deliver(ORDERS, RESYNC)
    deaf.deliver(ORDERS, order.number)
    await asyncio.sleep(0.2)
    assert not again.done(), "what was sent is not sent again"
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)
    await changes.aclose()
