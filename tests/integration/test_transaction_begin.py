"""A transaction whose BEGIN fails leaves the task able to run the next one.

On PostgreSQL the server restarts under a pooled connection that still looks open: BEGIN
is the first to find it closed. On SQLite another process holds the write lock past the
busy timeout. In both cases the next transaction of the same task must run on a good
connection; before `api.transactions`, the task kept the dead transaction as its
connection (PostgreSQL: every later statement failed; SQLite: every later transaction of
the process waited forever), which is how the worker once stopped sweeping for good after
a database restart.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from api.worker import run_forever
from models.points import service as points
from models.points.models import EntryKind, PointsAccount, PointsEntry
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, admin_token
from tests.support.settings import settings_for

on_postgres = pytest.mark.skipif(target() != "postgres", reason="a PostgreSQL connection fault")
on_sqlite = pytest.mark.skipif(target() != "sqlite", reason="SQLite's write lock")


def current() -> BaseDBAsyncClient:
    return connections.get("default")


async def kill_the_next_pooled_connection(dsn: str) -> None:
    """End the server session of the connection the pool hands out next, unnoticed.

    The pool is a LIFO: the connection released last is the next one acquired. Its reading
    is paused while its session is ended and gone, so the client still thinks it open, as
    when the server restarts between two statements; the next statement finds out.
    """
    client = current()
    await client.execute_query("SELECT 1")
    async with client._pool.acquire() as connection:  # type: ignore[attr-defined]
        pid = connection.get_server_pid()
        transport = connection._con._transport
    transport.pause_reading()
    admin = await asyncpg.connect(dsn)
    try:
        await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await asyncio.sleep(0.01)
    finally:
        await admin.close()
    transport.resume_reading()  # takes effect at the next turn of the loop: after BEGIN is sent


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


@on_postgres
async def test_postgres_after_a_failed_begin_the_next_transaction_runs(db: str) -> None:
    before = current()
    await kill_the_next_pooled_connection(asyncpg_dsn(db))
    with pytest.raises((asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError)):
        async with in_transaction() as connection:
            await connection.execute_query("SELECT 1")
    assert current() is before, "the failed transaction stayed the task's connection"
    async with in_transaction() as connection:
        _, rows = await connection.execute_query("SELECT 41 + 1 AS answer")
    assert rows[0]["answer"] == 42
    _, rows = await current().execute_query("SELECT 1 AS one")
    assert rows[0]["one"] == 1


@contextmanager
def write_lock_held(path: str) -> Iterator[None]:
    """Another connection (as another process would) holds SQLite's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


@on_sqlite
async def test_sqlite_after_begin_timed_out_on_the_lock_the_next_transaction_runs(
    db: str,
) -> None:
    path = db.removeprefix("sqlite://").split("?", 1)[0]
    before = current()
    await before.execute_script("PRAGMA busy_timeout = 100")
    try:
        with write_lock_held(path), pytest.raises(OperationalError, match="locked"):
            async with in_transaction():
                pass
        assert current() is before, "the failed transaction stayed the task's connection"
        async with asyncio.timeout(10):  # the transaction lock was released
            async with in_transaction() as connection:
                _, rows = await connection.execute_query("SELECT 41 + 1 AS answer")
        assert rows[0]["answer"] == 42
    finally:
        await before.execute_script("PRAGMA busy_timeout = 10000")


@on_postgres
async def test_the_worker_sweeps_again_after_a_pass_whose_begin_failed(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    await points.award(
        member_external_id="TX1",
        amount=500,
        reason="campaign",
        external_ref="campaign:TX1",
        now=now,
        expires_at=now + timedelta(days=1),
    )
    stop = asyncio.Event()
    passes = 0

    def clock() -> datetime:  # read once at the start of each pass
        nonlocal passes
        passes += 1
        return now + timedelta(days=2)

    settings = settings_for(db, sweep_interval_seconds=0.05)
    await kill_the_next_pooled_connection(asyncpg_dsn(db))
    worker = asyncio.create_task(run_forever(settings, clock=clock, stop=stop))
    try:
        async with asyncio.timeout(20):
            while passes < 2:  # the first pass has the dead connection to itself
                await asyncio.sleep(0.01)
            failed = [r for r in caplog.records if r.getMessage() == "sweeper pass failed"]
            assert failed, "the first pass did not meet the dead connection"
            while await PointsAccount.filter(member__external_id="TX1", balance=0).count() == 0:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    assert await PointsEntry.filter(kind=EntryKind.EXPIRE, delta=-500).count() == 1


@on_sqlite
async def test_sqlite_still_locked_after_the_busy_timeout_is_a_retryable_unavailability(
    db: str, api: GraphQLClient
) -> None:
    path = db.removeprefix("sqlite://").split("?", 1)[0]
    client = current()
    await client.execute_script("PRAGMA busy_timeout = 100")
    award = {"memberExternalId": "TX2", "amount": 500, "reason": "bill", "externalRef": "tx2"}
    try:
        with write_lock_held(path):
            refused = await api.op("AwardPoints", {"input": award}, auth=admin_token())
        again = await api.op("AwardPoints", {"input": award}, auth=admin_token())
    finally:
        await client.execute_script("PRAGMA busy_timeout = 10000")
    codes = [e["extensions"]["code"] for e in refused.body.get("errors") or []]
    assert codes == ["SERVICE_UNAVAILABLE"], refused.body
    assert again.data["awardPoints"]["errors"] == [], again.body
