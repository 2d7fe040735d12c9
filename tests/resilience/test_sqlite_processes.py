"""On SQLite, a second process writing meanwhile makes a transaction wait, never fail.

The API and the worker are two processes on one SQLite file. A transaction that has read
and then writes must not fail with "database is locked" because the other process wrote
in between; the other process waits for it instead (found by the soak: a redemption failed
while the sweeper committed).
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models.members.models import Member
from tests.support.databases import target

pytestmark = pytest.mark.skipif(target() != "sqlite", reason="SQLite's own locking")


def other_process_writes(path: str) -> None:
    """What the worker does meanwhile: a write of its own, on its own connection."""
    connection = sqlite3.connect(path, timeout=10)
    try:
        connection.execute("UPDATE member SET display_name = 'worker' WHERE external_id = 'W2'")
        connection.commit()
    finally:
        connection.close()


async def test_a_transaction_that_read_then_writes_waits_out_the_other_process(db: str) -> None:
    await Member.create(external_id="W1", display_name="")
    await Member.create(external_id="W2", display_name="")
    path = connections.get("default").filename
    async with in_transaction():
        assert await Member.filter(external_id="W1").exists()
        meanwhile = asyncio.create_task(asyncio.to_thread(other_process_writes, path))
        await asyncio.sleep(0.3)  # the other process writes (or waits) now
        await Member.filter(external_id="W1").update(display_name="api")
    await asyncio.wait_for(meanwhile, 15)
    names = dict(await Member.all().values_list("external_id", "display_name"))
    assert names == {"W1": "api", "W2": "worker"}
