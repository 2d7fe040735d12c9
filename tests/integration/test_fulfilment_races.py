"""Fulfilment under concurrency on PostgreSQL: slots never overbooked, sweepers never doubled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from api.wiring import SweepPolicy
from api.worker import sweep
from fulfilment.models import Alert, AlertKind, ShipDay
from fulfilment.planning import Planner
from models.errors import DomainError
from models.events import LOCAL, ORDERS, RESYNC, announce
from models.events.listener import listening
from models.orders.models import Order
from models.points.audit import audit
from models.points.models import EntryKind, PointsAccount, PointsEntry
from tests.integration.test_redeem_races import bounded, redeem
from tests.support.catalog import gift, small_mall, stock, warehouse
from tests.support.databases import target
from tests.support.fulfilment import place
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

pytestmark = pytest.mark.skipif(target() != "postgres", reason="races are proven on PostgreSQL")


async def test_racing_redemptions_never_overbook_a_warehouse_day(api: GraphQLClient) -> None:
    await small_mall(api)
    await warehouse(api, "RACE", capacity=5)
    await gift(api, "RACE-G", 1_000)
    await stock(api, "RACE-G", "RACE", 100)
    members = [f"RS{i:02d}" for i in range(40)]
    for member in members:
        await member_with_points(member, 5_000)

    results = await bounded([redeem(m, "race", ("RACE-G", 1)) for m in members])
    placed = [r for r in results if not isinstance(r, DomainError)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert {r.code for r in refused} <= {"CAPACITY_EXHAUSTED"}
    assert len(placed) == 35, "five a day on the seven days before the deadline"

    days = await ShipDay.filter(warehouse__code="RACE").order_by("day")
    assert all(d.booked <= 5 for d in days)
    assert days[0].booked == 5, "the first day is full, and no fuller"
    orders = await Order.filter(warehouse__code="RACE").values_list("promised_ship_date", flat=True)
    per_day: dict[object, int] = {}
    for day in orders:
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {d.day: d.booked for d in days if d.booked}
    balances = {a.balance for a in await PointsAccount.filter(member__external_id__startswith="RS")}
    assert balances == {4_000, 5_000}
    assert await audit() == []


async def test_concurrent_sweeper_passes_alert_and_compensate_each_order_once(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("SWR", 500_000)
    orders = [await place("SWR", f"k{i}", ("EL-PB10K", 1)) for i in range(12)]
    now = datetime.now(UTC) + timedelta(days=8)

    summaries = await asyncio.gather(
        *[sweep(now=now, planner=Planner(), policy=SweepPolicy(batch=5)) for _ in range(3)]
    )
    assert sum(s.at_risk for s in summaries) == 12
    assert sum(s.breached for s in summaries) == 12
    assert sum(s.compensated for s in summaries) == 12
    for order in orders:
        kinds = await Alert.filter(order_id=order.id).values_list("kind", flat=True)
        assert sorted(kinds) == [AlertKind.AT_RISK, AlertKind.BREACHED]
    credits = await PointsEntry.filter(kind=EntryKind.COMPENSATION).values_list(
        "external_ref", "delta"
    )
    assert sorted(credits) == sorted((f"compensation:{o.number}", 690) for o in orders)
    assert await audit() == []


async def test_the_listener_reconnects_when_its_connection_drops(db: str) -> None:
    async with listening(db) as listener:
        assert listener.connected
        assert listener.server_pid is not None
        killed = listener.server_pid
        with LOCAL.listen(ORDERS) as notices:
            sql = "SELECT pg_terminate_backend($1)"
            await connections.get("default").execute_query(sql, [killed])
            for _ in range(100):
                if listener.connected and listener.server_pid != killed:
                    break
                await asyncio.sleep(0.05)
            assert listener.connections == 2
            assert listener.server_pid != killed
            # Whatever was announced while it was away is lost: subscribers are told so.
            assert await asyncio.wait_for(anext(notices), 5) == RESYNC
            async with in_transaction():
                await announce(ORDERS, "PM-AFTER-RECONNECT")
            assert await asyncio.wait_for(anext(notices), 5) == "PM-AFTER-RECONNECT"
