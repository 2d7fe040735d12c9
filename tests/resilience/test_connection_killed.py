"""A redemption whose database connection is killed half-way leaves nothing behind.

Another connection holds a row lock the redemption needs (the gift's stock rows, or the
warehouse's ship days), so the redemption stops inside its transaction, after it has
already debited or held the points (and, for points plus cash, opened a PaymentIntent).
Then its backend is terminated with `pg_terminate_backend`, as an administrator or a
failover would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from models.events.listener import asyncpg_dsn
from models.points.audit import audit
from tests.fakes.stripe_server import StripeFake
from tests.resilience.invariants import broken_invariants, footprint
from tests.support.catalog import ADDRESS, gift, small_mall, stock
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points

pytestmark = pytest.mark.skipif(
    target() != "postgres", reason="pg_terminate_backend needs PostgreSQL"
)

LOCKS = {
    "stock": "SELECT 1 FROM stock WHERE gift_id = (SELECT id FROM gift WHERE sku = $1) FOR UPDATE",
    "ship_day": "SELECT 1 FROM ship_day FOR UPDATE",
}


def redeem_input(key: str, sku: str) -> dict[str, Any]:
    return {
        "input": {
            "idempotencyKey": key,
            "lines": [{"sku": sku, "quantity": 1}],
            "shippingAddress": ADDRESS,
        }
    }


@asynccontextmanager
async def holding(db: str, lock: str, *args: Any) -> AsyncIterator[asyncpg.Connection]:
    """Hold the rows `lock` selects FOR UPDATE on a connection of our own until the block ends."""
    connection = await asyncpg.connect(asyncpg_dsn(db))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(lock, *args)
        try:
            yield connection
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def blocked_backend(locker: asyncpg.Connection, seconds: float = 15) -> int:
    """The pid of the backend of this database that waits for our lock."""
    for _ in range(int(seconds / 0.05)):
        pid = await locker.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() LIMIT 1"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the redemption never waited for the lock")


async def terminate(db: str, pid: int) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(db))
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def killed_redemption(
    api: GraphQLClient, db: str, *, lock: str, sku: str, member: str
) -> dict[str, Any]:
    """Redeem `sku`, kill the redemption's connection while it waits for `lock`; the body."""
    async with holding(db, LOCKS[lock], *([sku] if lock == "stock" else [])) as locker:
        call = asyncio.create_task(
            api.op("Redeem", redeem_input("kill-1", sku), auth=member_token(member))
        )
        await terminate(db, await blocked_backend(locker))
        result = await asyncio.wait_for(call, 30)
    assert result.status == 200
    return result.body


def assert_refused_as_unavailable(body: dict[str, Any]) -> None:
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}, error
    assert error["path"] == ["redeem"]
    assert "Traceback" not in str(body)
    assert "asyncpg" not in str(body)


async def test_points_order_killed_while_reserving_stock_leaves_nothing_and_retry_succeeds(
    api: GraphQLClient, db: str
) -> None:
    await small_mall(api)
    await member_with_points("K1", 20_000)
    before = await footprint()

    body = await killed_redemption(api, db, lock="stock", sku="EL-PB10K", member="K1")

    assert_refused_as_unavailable(body)
    assert await footprint() == before, "no order, REDEEM entry, lot draw or reservation"
    assert await audit() == []
    retry = await api.op("Redeem", redeem_input("kill-1", "EL-PB10K"), auth=member_token("K1"))
    placed = retry.data["redeem"]
    assert placed["errors"] == []
    assert placed["order"]["status"] == "CONFIRMED"
    after = await footprint()
    assert (after.orders, after.balance) == (before.orders + 1, before.balance - 6_900)
    assert await broken_invariants() == []
    assert await audit() == []


async def test_cash_order_killed_while_booking_its_ship_day_leaves_nothing_and_retry_succeeds(
    api: GraphQLClient, db: str, stripe: StripeFake
) -> None:
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    await member_with_points("K2", 40_000)
    first = await api.op("Redeem", redeem_input("first", "EL-PB10K"), auth=member_token("K2"))
    assert first.data["redeem"]["errors"] == []  # the ship day's row now exists to be locked
    before = await footprint()

    body = await killed_redemption(api, db, lock="ship_day", sku="EL-KBD", member="K2")

    assert_refused_as_unavailable(body)
    assert await footprint() == before, "no order, hold, lot draw, reservation or booking"
    assert await audit() == []
    [intent] = stripe.intents.values()
    assert intent["status"] == "canceled", "the PaymentIntent opened meanwhile is abandoned"
    retry = await api.op("Redeem", redeem_input("kill-1", "EL-KBD"), auth=member_token("K2"))
    placed = retry.data["redeem"]
    assert placed["errors"] == []
    assert placed["order"]["status"] == "AWAITING_PAYMENT"
    assert placed["payment"]["clientSecret"]
    after = await footprint()
    assert (after.orders, after.held) == (before.orders + 1, before.held + 9_000)
    assert await broken_invariants() == []
    assert await audit() == []
