"""The sweeper's pass: alerts and compensation once, unpaid orders cancelled, points expired."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from api.wiring import SweepPolicy
from api.worker import SweepSummary, sweep
from fulfilment.models import Alert, AlertKind, Deadline, ShipDay
from fulfilment.planning import Planner
from models.catalog.models import Stock
from models.orders.models import Order, OrderStatus
from models.payments.scheduled import cancel_unpaid
from models.points import service as points
from models.points.models import EntryKind, PointsAccount, PointsEntry
from tests.support.catalog import gift, small_mall, stock
from tests.support.fulfilment import FixedPayment, place, shipped
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points
from tests.support.server import ROOT

A_WEEK_LATER = timedelta(days=8)


async def pass_at(now: datetime) -> SweepSummary:
    return await sweep(now=now, planner=Planner(), policy=SweepPolicy())


async def balance(member: str) -> int:
    return int((await PointsAccount.get(member__external_id=member)).balance)


async def test_a_week_later_an_unshipped_order_is_flagged_and_compensated_exactly_once(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("SW1", 30_000)
    late = await place("SW1", "late", ("EL-PB10K", 2))
    on_time = await place("SW1", "ok", ("EL-PB10K", 1))
    await shipped(on_time.number, "SF-OK-1")
    assert await balance("SW1") == 30_000 - 3 * 6_900

    now = datetime.now(UTC) + A_WEEK_LATER
    assert await pass_at(datetime.now(UTC)) == SweepSummary(), "nothing is due yet"
    first = await pass_at(now)
    assert (first.at_risk, first.breached, first.compensated) == (1, 1, 1)
    second = await pass_at(now + timedelta(minutes=1))
    assert second == SweepSummary()

    alerts = await Alert.filter(order_id=late.id).order_by("kind")
    assert [(a.kind, a.raised_at) for a in alerts] == [
        (AlertKind.AT_RISK, now),
        (AlertKind.BREACHED, now),
    ]
    assert not await Alert.filter(order_id=on_time.id).exists()
    assert not await Deadline.exists(), "every due deadline was handled and removed"
    [credit] = await PointsEntry.filter(kind=EntryKind.COMPENSATION)
    assert (credit.delta, credit.external_ref) == (1_380, f"compensation:{late.number}")
    assert await balance("SW1") == 30_000 - 3 * 6_900 + 1_380


async def test_an_order_shipped_before_its_deadlines_raises_nothing(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("SW2", 30_000)
    order = await place("SW2", "k", ("EL-PB10K", 1))
    await shipped(order.number, "SF-SW2-1")
    summary = await pass_at(datetime.now(UTC) + A_WEEK_LATER)
    assert (summary.at_risk, summary.breached, summary.compensated) == (0, 0, 0)
    assert not await Alert.exists()


async def test_an_order_left_unpaid_for_30_minutes_is_cancelled_and_releases_everything(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    await member_with_points("SW3", 30_000)
    placed_at = datetime.now(UTC)
    gateway = FixedPayment()
    order = await place("SW3", "cash", ("EL-KBD", 1), now=placed_at, payments=gateway)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert (await PointsAccount.get(member__external_id="SW3")).held == 9_000
    assert (await Stock.get(gift__sku="EL-KBD")).reserved == 1
    timeout = timedelta(minutes=30)

    early = await cancel_unpaid(
        now=placed_at + timedelta(minutes=29), older_than=timeout, planner=Planner()
    )
    assert early == []
    summary = await pass_at(placed_at + timedelta(minutes=31))
    assert summary.cancelled == 1
    cancelled = await Order.get(id=order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancel_reason == "payment not received in time"
    account = await PointsAccount.get(member__external_id="SW3")
    assert (account.balance, account.held) == (30_000, 0)
    assert (await Stock.get(gift__sku="EL-KBD")).reserved == 0
    assert sum(d.booked for d in await ShipDay.all()) == 0
    again = await cancel_unpaid(
        now=placed_at + timedelta(hours=2), older_than=timeout, planner=Planner()
    )
    assert again == []


async def test_due_points_expire_in_the_pass(api: GraphQLClient) -> None:
    now = datetime.now(UTC)
    await points.award(
        member_external_id="SW4",
        amount=500,
        reason="campaign",
        external_ref="campaign:SW4",
        now=now,
        expires_at=now + timedelta(days=1),
    )
    await member_with_points("SW4", 200)
    summary = await pass_at(now + timedelta(days=2))
    assert summary.expired_lots == 1
    assert await balance("SW4") == 200
    assert await PointsEntry.filter(kind=EntryKind.EXPIRE, delta=-500).count() == 1


async def test_worker_once_runs_a_pass_at_the_given_time_and_prints_it(
    api: GraphQLClient, database_url: str
) -> None:
    await small_mall(api)
    await member_with_points("SW5", 30_000)
    order = await place("SW5", "k", ("EL-PB10K", 1))
    at = (datetime.now(UTC) + A_WEEK_LATER).isoformat()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        "worker",
        "--once",
        "--now",
        at,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "alerts at risk 1, breached 1; compensated 1" in out.decode()
    assert await Alert.filter(order_id=order.id).count() == 2
    assert await PointsEntry.filter(kind=EntryKind.COMPENSATION).count() == 1


async def test_the_worker_sweeps_every_interval_and_stops_gracefully_on_sigterm(
    api: GraphQLClient, database_url: str
) -> None:
    await small_mall(api)
    await member_with_points("SW7", 30_000)
    order = await place("SW7", "k", ("EL-PB10K", 1), now=datetime.now(UTC) - A_WEEK_LATER)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        "worker",
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "SWEEP_INTERVAL_SECONDS": "0.2",
            "LOG_LEVEL": "WARNING",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(200):  # the first pass flags the order that is a week late
            if await Alert.filter(order_id=order.id).count() == 2:
                break
            await asyncio.sleep(0.05)
        assert await Alert.filter(order_id=order.id).count() == 2
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "worker: stopped after" in out.decode()
    assert await PointsEntry.filter(kind=EntryKind.COMPENSATION).count() == 1


async def test_compensation_follows_the_configured_rate(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("SW6", 30_000)
    await place("SW6", "k", ("HM-MUG", 1))
    policy = SweepPolicy(compensation_rate=Decimal("0.25"))
    await sweep(now=datetime.now(UTC) + A_WEEK_LATER, planner=Planner(), policy=policy)
    [credit] = await PointsEntry.filter(kind=EntryKind.COMPENSATION)
    assert credit.delta == 1_950
