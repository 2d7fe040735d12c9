"""Redemptions racing on PostgreSQL: no oversell, no overdraw, one order per key."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from fulfilment.planning import Planner
from models import sql
from models.actors import Actor, Role
from models.catalog.models import Stock
from models.errors import DomainError
from models.orders import redemption, rules
from models.orders.lifecycle import cancel
from models.orders.models import Order, OrderStatus
from models.orders.rules import Address, LineRequest
from models.points.audit import audit
from models.points.models import EntryKind, PointsAccount, PointsEntry
from tests.support.catalog import gift, small_mall, stock
from tests.support.databases import target
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

pytestmark = pytest.mark.skipif(target() != "postgres", reason="races are proven on PostgreSQL")
T = TypeVar("T")
ADDRESS = Address(
    "李娜", "13900139000", "广东省", "广州市", "天河区", "体育西路 1 号", "", "510000"
)


async def bounded(
    calls: list[Callable[[], Awaitable[T]]], width: int = 25
) -> list[T | DomainError]:
    """Run the calls concurrently, at most `width` at once (the pool has 30 connections)."""
    gate = asyncio.Semaphore(width)

    async def one(call: Callable[[], Awaitable[T]]) -> T | DomainError:
        async with gate:
            try:
                return await call()
            except DomainError as error:
                return error

    return await asyncio.gather(*(one(call) for call in calls))


def redeem(
    member: str, key: str, *lines: tuple[str, int], planner: Planner | None = None
) -> Callable[[], Awaitable[Any]]:
    request = redemption.RedeemRequest(key, [LineRequest(s, q) for s, q in lines], ADDRESS)
    return lambda: redemption.redeem(
        member_external_id=member,
        request=request,
        now=datetime.now(UTC),
        planner=planner or Planner(),
    )


async def test_300_members_race_for_100_units(api: GraphQLClient) -> None:
    await small_mall(api)
    await gift(api, "HOT-1", 1_000, name="Limited edition")
    await stock(api, "HOT-1", "SH01", 60)
    await stock(api, "HOT-1", "GZ01", 40)
    members = [f"R{i:03d}" for i in range(300)]
    for member in members:
        await member_with_points(member, 5_000)
    results = await bounded([redeem(m, "hot", ("HOT-1", 1)) for m in members])
    placed = [r for r in results if not isinstance(r, DomainError)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(placed) == 100
    assert {r.code for r in refused} == {"OUT_OF_STOCK"}
    rows = await Stock.filter(gift__sku="HOT-1")
    assert sum(r.on_hand - r.reserved for r in rows) == 0
    assert all(r.reserved <= r.on_hand for r in rows)
    assert await Order.filter(lines__sku="HOT-1").count() == 100
    debited = await PointsEntry.filter(kind=EntryKind.REDEEM).count()
    assert debited == 100, "every member charged has an order and only they"
    assert sum(a.balance for a in await PointsAccount.all()) == 300 * 5_000 - 100 * 1_000
    assert await audit() == []


async def test_one_member_racing_many_gifts_never_overdraws(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("R-ONE", 20_000)
    skus = [f"G-{i}" for i in range(12)]
    for sku in skus:
        await gift(api, sku, 3_000)
        await stock(api, sku, "SH01", 5)
    results = await bounded([redeem("R-ONE", f"k-{sku}", (sku, 1)) for sku in skus])
    placed = [r for r in results if not isinstance(r, DomainError)]
    assert len(placed) == 6
    assert {r.code for r in results if isinstance(r, DomainError)} == {"INSUFFICIENT_POINTS"}
    account = await PointsAccount.get(member__external_id="R-ONE")
    assert account.balance == 2_000
    assert await audit() == []


async def test_retries_with_one_key_under_concurrency_make_one_order(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("R-KEY", 50_000)
    results = await bounded([redeem("R-KEY", "tap-tap-tap", ("EL-PB10K", 1)) for _ in range(20)])
    numbers = {r.order.number for r in results if not isinstance(r, DomainError)}
    assert len(numbers) == 1
    assert await Order.filter(member__external_id="R-KEY").count() == 1
    assert (await PointsAccount.get(member__external_id="R-KEY")).balance == 50_000 - 6_900
    assert await audit() == []


async def waiting_in_a_first_read() -> None:
    """Return once a session of this database waits for a lock in an order's first read
    (fail after 10 s)."""
    for _ in range(1_000):
        # Called inside a transaction, whose view of the activity is otherwise kept.
        await sql.fetch("SELECT pg_stat_clear_snapshot()")
        waiting = await sql.fetch(
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE '%AS replay_fingerprint%'"
        )
        if waiting[0]["n"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no order ever waited for the account in its first read")


async def test_a_twin_that_commits_while_the_order_waits_for_the_account_is_the_answer(
    api: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order's first read waits for the member's account, which a twin request with the
    same key holds; the twin commits. The read's snapshot is older than the twin's order,
    so the order's insert fails on the key, and the twin's order is the answer at once,
    without drawing another number for a second attempt."""
    await small_mall(api)
    await member_with_points("R-TWIN", 50_000)
    outside = contextvars.copy_context()  # no transaction: the request runs on its own
    drawn: list[str] = []
    late: list[asyncio.Task[redemption.RedemptionResult]] = []
    redeem_late = redeem("R-TWIN", "same-tap", ("EL-PB10K", 1))

    class HoldingTheAccount(Planner):
        """The twin's planner: it plans while its transaction holds the account, and lets
        the late request in to wait for it first."""

        async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> Any:
            if not late:
                late.append(asyncio.create_task(redeem_late(), context=outside))
                await waiting_in_a_first_read()
            return await super().plan(quantities, now=now)

    def draw(now: datetime) -> str:
        drawn.append(number_of(now))
        return drawn[-1]

    number_of = rules.new_order_number
    monkeypatch.setattr(rules, "new_order_number", draw)
    twin = await redeem("R-TWIN", "same-tap", ("EL-PB10K", 1), planner=HoldingTheAccount())()
    placed = await late[0]
    assert not twin.replayed
    assert placed.replayed
    assert placed.order.number == twin.order.number
    assert len(drawn) == 2, "one number for the twin, one for the attempt that met it"
    assert await Order.filter(member__external_id="R-TWIN").count() == 1
    assert (await PointsAccount.get(member__external_id="R-TWIN")).balance == 50_000 - 6_900
    assert await audit() == []


async def test_cancellations_racing_redemptions_keep_stock_and_points_exact(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await stock(api, "EL-BUDS", "GZ01", 7)  # 10 units in all
    members = [f"RC{i:02d}" for i in range(30)]
    for member in members:
        await member_with_points(member, 40_000)
    first = await bounded([redeem(m, "a", ("EL-BUDS", 1)) for m in members])
    winners = [r for r in first if not isinstance(r, DomainError)]
    assert len(winners) == 10
    admin = Actor(Role.ADMIN, "admin")

    def cancelling(number: str) -> Callable[[], Awaitable[Any]]:
        return lambda: cancel(number=number, actor=admin, now=datetime.now(UTC), planner=Planner())

    cancels = [cancelling(r.order.number) for r in winners[:5]]
    second = await bounded([*cancels, *[redeem(m, "b", ("EL-BUDS", 1)) for m in members[:20]]])
    assert all(not isinstance(r, DomainError) or r.code == "OUT_OF_STOCK" for r in second)
    live = await Order.filter(lines__sku="EL-BUDS").exclude(status=OrderStatus.CANCELLED).count()
    rows = await Stock.filter(gift__sku="EL-BUDS")
    assert sum(r.reserved for r in rows) == live <= 10
    assert await audit() == []
