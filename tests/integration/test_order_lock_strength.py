"""An order's row lock leaves room for rows that refer to the order (PostgreSQL).

Cancelling locks the order, then its member's account. A sweeper batch that holds the
account (crediting a breach's compensation, say) then writes a message naming that order:
the message's foreign key needs a key-share lock on the order's row. `FOR UPDATE` refuses
it and the two deadlock; `FOR NO KEY UPDATE`, what changing an order's columns needs, lets
the message in, and the cancel goes on once the batch commits.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from fulfilment.planning import Planner
from models import sql
from models.notifications import outbox
from models.notifications.models import Notification
from models.notifications.models import NotificationKind as Kind
from models.orders import lifecycle
from models.orders.models import Order, OrderStatus
from models.points import service as points
from tests.support.catalog import small_mall
from tests.support.databases import target
from tests.support.fulfilment import ADMIN, place
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

pytestmark = pytest.mark.skipif(target() != "postgres", reason="row locks are PostgreSQL's")


async def waiting_for_a_lock(fragment: str) -> None:
    """Return once a session of this database waits for a lock in a statement holding
    `fragment` (fail after 10 s)."""
    for _ in range(1_000):
        await sql.fetch("SELECT pg_stat_clear_snapshot()")
        rows = await sql.fetch(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE $1",
            f"%{fragment}%",
        )
        if rows[0]["n"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no session ever waited in a statement with {fragment!r}")


async def test_a_cancel_waiting_for_the_account_lets_a_message_about_its_order_in(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("LOCK-1", 50_000)
    order = await place("LOCK-1", "k1", ("EL-PB10K", 1))
    now = datetime.now(UTC)
    account_held = asyncio.Event()

    async def sweeper_batch() -> None:
        async with in_transaction():
            await points.lock_account(member_id=order.member_id)
            account_held.set()
            await waiting_for_a_lock("FROM points_account a WHERE a.member_id")
            notice = outbox.Notice(
                order.member_id,
                outbox.order_key(order.number, Kind.ORDER_BREACHED),
                outbox.order_data(order, compensation=690),
                order.id,
            )
            await outbox.notify_many(Kind.ORDER_BREACHED, [notice], now=now)

    async def cancel() -> Order:
        await account_held.wait()
        return await lifecycle.cancel(number=order.number, actor=ADMIN, now=now, planner=Planner())

    _, cancelled = await asyncio.wait_for(asyncio.gather(sweeper_batch(), cancel()), 30)
    assert cancelled.status is OrderStatus.CANCELLED
    kinds = await Notification.filter(order_id=order.id).values_list("kind", flat=True)
    assert Kind.ORDER_BREACHED in kinds
    assert Kind.ORDER_CANCELLED in kinds
