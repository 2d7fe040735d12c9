"""A worker killed in the middle of a pass, and restarted, does every job exactly once.

Many orders are long overdue: each owes an at-risk alert, a breach alert and a
compensation. A connection of the test holds a row the sweeper needs, so the worker stops
at a known point inside one of its batches; it is then SIGKILLed there. The first worker
dies while raising alerts (one batch committed, the next open: it waits for the row of the
one warehouse that ships an order of that batch, locked as an admin's edit would lock it),
the second while crediting compensations (it waits for one member's points account);
`pointsmall worker --once` then finishes the job, and nothing is doubled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from fulfilment.models import Alert, AlertKind, Deadline
from fulfilment.rules import compensation_points
from models.events.listener import asyncpg_dsn
from models.orders.models import Order
from models.points.audit import audit
from models.points.models import EntryKind, PointsEntry
from tests.resilience.processes import kill, start_worker, worker_once
from tests.support.catalog import gift, small_mall, stock, warehouse
from tests.support.databases import target
from tests.support.fulfilment import place
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

pytestmark = pytest.mark.skipif(
    target() != "postgres", reason="stopping a worker at a row lock needs PostgreSQL"
)
ORDERS = 120  # a first alert batch (100 deadlines) takes 100 orders, the second the rest
BLOCKED_ALERT = 110  # an order of the second alert batch
BLOCKED_COMPENSATION = 60  # an order in the middle of the first compensation batch
RATE = Decimal("0.10")  # the default compensation rate


async def overdue_orders(api: GraphQLClient) -> list[Order]:
    """ORDERS orders placed nine days ago, a minute apart.

    One member has only the order BLOCKED_COMPENSATION; only the order BLOCKED_ALERT ships
    from warehouse BJ01 (the one warehouse holding its gift).
    """
    await small_mall(api)
    await stock(api, "EL-PB10K", "SH01", 200)
    await warehouse(api, "BJ01", capacity=10)
    await gift(api, "BJ-TEA", 4_200, category_slug="home")
    await stock(api, "BJ-TEA", "BJ01", 5)
    for member in [f"LATE-{i}" for i in range(10)] + ["LATE-X"]:
        await member_with_points(member, 200_000)
    start = datetime.now(UTC) - timedelta(days=9)
    orders = []
    for i in range(ORDERS):
        member = "LATE-X" if i == BLOCKED_COMPENSATION else f"LATE-{i % 10}"
        sku = "BJ-TEA" if i == BLOCKED_ALERT else "EL-PB10K"
        at = start + timedelta(minutes=i)
        orders.append(await place(member, f"k-{i}", (sku, 1), now=at))
    return orders


@asynccontextmanager
async def holding(dsn: str, statement: str, *args: Any) -> AsyncIterator[asyncpg.Connection]:
    """Run `statement` in a transaction of our own, kept open (with its locks) for the block."""
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(statement, *args)
        try:
            yield connection
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def waiting_backend(dsn: str, seconds: float = 30) -> int:
    """The pid of the (worker's) backend of this database that waits for a lock."""
    connection = await asyncpg.connect(dsn)
    try:
        for _ in range(int(seconds / 0.05)):
            pid = await connection.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' LIMIT 1"
            )
            if pid is not None:
                return int(pid)
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    raise AssertionError("the worker never reached the held row")


async def gone(dsn: str, pid: int, seconds: float = 30) -> None:
    """Until the backend `pid` has ended.

    A backend whose client was killed while it waited for a lock learns of it only when it
    next talks to the client, after the lock is free; until then it keeps its own locks,
    and a new worker would skip (SKIP LOCKED) the rows it holds.
    """
    connection = await asyncpg.connect(dsn)
    try:
        for _ in range(int(seconds / 0.05)):
            if not await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            ):
                return
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    raise AssertionError(f"backend {pid} of the killed worker never ended")


async def killed_at_held_row(db: str, log: Path, statement: str, *args: Any) -> tuple[int, int]:
    """Start a worker, SIGKILL it while it waits for the row `statement` holds.

    Returns the alerts and compensations committed when it died.
    """
    dsn = asyncpg_dsn(db)
    async with holding(dsn, statement, *args):
        worker = await start_worker(db, log, {"SWEEP_INTERVAL_SECONDS": "0.5"})
        try:
            backend = await waiting_backend(dsn)
        finally:
            await kill(worker)
        committed = (
            await Alert.all().count(),
            await PointsEntry.filter(kind=EntryKind.COMPENSATION).count(),
        )
    await gone(dsn, backend)
    return committed


async def test_a_worker_killed_mid_pass_and_restarted_raises_and_credits_everything_once(
    api: GraphQLClient, db: str, tmp_path: Path
) -> None:
    orders = await overdue_orders(api)

    alerts, credits = await killed_at_held_row(
        db,
        tmp_path / "worker-1.log",
        "SELECT 1 FROM warehouse WHERE id = $1 FOR UPDATE",
        orders[BLOCKED_ALERT].warehouse_id,
    )
    assert alerts == 2 * 100, "killed after the first alert batch, inside the second"
    assert credits == 0

    alerts, credits = await killed_at_held_row(
        db,
        tmp_path / "worker-2.log",
        "SELECT 1 FROM points_account WHERE member_id = $1 FOR UPDATE",
        orders[BLOCKED_COMPENSATION].member_id,
    )
    assert alerts == 2 * ORDERS
    assert credits == 0, "the compensation batch died with the worker, whole"

    output = await worker_once(db)
    assert "compensated 120" in output, output

    for kind in AlertKind:
        raised = await Alert.filter(kind=kind).values_list("order_id", flat=True)
        assert sorted(raised) == sorted(o.id for o in orders), kind
    credited = await PointsEntry.filter(kind=EntryKind.COMPENSATION).values_list(
        "external_ref", "delta"
    )
    owed = [(f"compensation:{o.number}", compensation_points(o.points_total, RATE)) for o in orders]
    assert sorted(credited) == sorted(owed)
    assert not await Alert.filter(kind=AlertKind.BREACHED, compensated_at__isnull=True).exists()
    assert not await Deadline.exists()
    assert await audit() == []
    again = await worker_once(db)
    assert "alerts at risk 0, breached 0; compensated 0" in again, again
