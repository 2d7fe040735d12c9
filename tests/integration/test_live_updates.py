"""Subscriptions run in-process: who may follow an order, fresh reads, alerts by warehouse.

On PostgreSQL the notices travel through LISTEN/NOTIFY, so the tests run the listener.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio

from api.wiring import SweepPolicy
from api.worker import sweep
from fulfilment import rules, shipments, tracking
from fulfilment.planning import Planner
from models.actors import Actor, Role
from models.events import ALERTS, LOCAL, ORDERS
from models.events.listener import listening
from models.orders import lifecycle
from models.orders.models import OrderStatus
from tests.support.catalog import small_mall
from tests.support.databases import is_postgres_url
from tests.support.fulfilment import place, subscribe
from tests.support.graphql import GraphQLClient, operation
from tests.support.members import member_with_points

MEMBER = Actor(Role.MEMBER, "LV1")
STAFF = Actor(Role.WAREHOUSE, "staff-1", frozenset({"SH01"}))


@pytest_asyncio.fixture
async def notices(db: str) -> AsyncIterator[None]:
    """This process hears the database's change notices (LISTEN on PostgreSQL)."""
    if not is_postgres_url(db):
        yield
        return
    async with listening(db):
        yield


@asynccontextmanager
async def following(
    name: str, variables: dict[str, Any], actor: Actor | None, channel: str
) -> AsyncIterator[asyncio.Queue[Any]]:
    """Run a subscription in the background; its results land in the queue."""
    results: asyncio.Queue[Any] = asyncio.Queue()
    listening_before = LOCAL.subscribers(channel)

    async def run() -> None:
        async for result in subscribe(operation(name), variables, actor):
            await results.put(result)

    task = asyncio.create_task(run())
    for _ in range(100):  # until the subscription listens (or ended with an error)
        if LOCAL.subscribers(channel) > listening_before or task.done():
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # the subscription's own check reads the database
    try:
        yield results
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def next_data(results: asyncio.Queue[Any]) -> dict[str, Any]:
    result = await asyncio.wait_for(results.get(), 10)
    assert not result.errors, result.errors
    data: dict[str, Any] = result.data
    return data


async def test_the_member_follows_each_change_of_their_order(
    api: GraphQLClient, notices: None
) -> None:
    await small_mall(api)
    await member_with_points("LV1", 30_000)
    order = await place("LV1", "k", ("EL-PB10K", 1))
    async with following("OrderUpdates", {"number": order.number}, MEMBER, ORDERS) as updates:
        for step in (OrderStatus.PICKING, OrderStatus.PACKED):
            await lifecycle.advance(
                number=order.number, to=step, actor=STAFF, now=datetime.now(UTC)
            )
            seen = (await next_data(updates))["orderUpdated"]
            assert (seen["number"], seen["status"], seen["shipment"]) == (order.number, step, None)
        await shipments.ship(
            number=order.number,
            carrier="SF",
            tracking_number="SF-LIVE-1",
            actor=STAFF,
            now=datetime.now(UTC),
            planner=Planner(),
        )
        seen = (await next_data(updates))["orderUpdated"]
        assert seen["status"] == "SHIPPED", "each notice is read with fresh loaders"
        assert seen["shipment"] == {
            "status": "SHIPPED",
            "trackingNumber": "SF-LIVE-1",
            "events": [],
        }
        at = datetime.now(UTC) - timedelta(minutes=5)
        scan = rules.Scan("SF", "SF-LIVE-1", "IN_TRANSIT", "上海", "", at)
        await tracking.record(scan=scan, actor=STAFF, now=datetime.now(UTC))
        await tracking.record(scan=scan, actor=STAFF, now=datetime.now(UTC))  # stored once
        seen = (await next_data(updates))["orderUpdated"]
        assert seen["shipment"]["status"] == "IN_TRANSIT"
        assert seen["shipment"]["events"] == [
            {"status": "IN_TRANSIT", "occurredAt": at.isoformat()}
        ]
        await asyncio.sleep(0.2)
        assert updates.empty(), "nothing else was sent"


async def test_only_the_member_who_owns_the_order_may_follow_it(
    api: GraphQLClient, notices: None
) -> None:
    await small_mall(api)
    await member_with_points("LV1", 30_000)
    order = await place("LV1", "k", ("EL-PB10K", 1))
    cases = [
        (Actor(Role.MEMBER, "LV2"), "NOT_FOUND"),
        (STAFF, "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ]
    for actor, code in cases:
        async for result in subscribe(operation("OrderUpdates"), {"number": order.number}, actor):
            assert result.data is None
            assert [e.extensions["code"] for e in result.errors] == [code]
    assert LOCAL.subscribers(ORDERS) == 0, "refused subscriptions stopped listening"


async def test_warehouse_staff_receive_the_alerts_of_their_warehouse(
    api: GraphQLClient, notices: None
) -> None:
    await small_mall(api)
    await member_with_points("LV1", 100_000)
    order = await place("LV1", "sh", ("HM-MUG", 1))
    await place("LV1", "gz", ("EL-BUDS", 1))  # GZ01's order alerts only GZ01
    now = datetime.now(UTC) + timedelta(days=8)
    async with following("FulfilmentAlerts", {"warehouseCode": "SH01"}, STAFF, ALERTS) as alerts:
        summary = await sweep(now=now, planner=Planner(), policy=SweepPolicy())
        assert (summary.at_risk, summary.breached) == (2, 2)
        received = [(await next_data(alerts))["fulfilmentAlerts"] for _ in range(2)]
        await asyncio.sleep(0.2)
        assert alerts.empty()
    assert sorted(a["kind"] for a in received) == ["AT_RISK", "BREACHED"]
    for alert in received:
        assert alert["order"] == {
            "number": order.number,
            "status": "CONFIRMED",
            "shipBy": order.ship_by.isoformat() if order.ship_by else None,
        }
        assert datetime.fromisoformat(alert["raisedAt"]) == now


async def test_alerts_are_for_staff_of_that_warehouse(api: GraphQLClient, notices: None) -> None:
    await small_mall(api)
    cases = [
        (STAFF, "GZ01", "FORBIDDEN"),
        (Actor(Role.MEMBER, "LV1"), "SH01", "FORBIDDEN"),
        (Actor(Role.ADMIN, "a"), "XX99", "NOT_FOUND"),
    ]
    for actor, code, error in cases:
        async for result in subscribe(
            operation("FulfilmentAlerts"), {"warehouseCode": code}, actor
        ):
            assert [e.extensions["code"] for e in result.errors] == [error]
