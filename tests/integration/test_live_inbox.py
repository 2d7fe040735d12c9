"""The live inbox: a member hears of each new message of their own, once, as it is written.

The subscription runs in-process as the websocket endpoint runs it; on PostgreSQL the
notices travel through LISTEN/NOTIFY, so the tests run the listener (lost notices and late
commits: test_live_resync.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from models.actors import Actor, Role
from models.events import LOCAL, NOTIFICATIONS
from models.events.listener import listening
from models.members import service as members
from models.notifications import inbox
from models.points import service as points
from tests.support.catalog import small_mall
from tests.support.databases import is_postgres_url
from tests.support.fulfilment import place, subscribe
from tests.support.graphql import GraphQLClient, operation
from tests.support.members import member_with_points

ME, OTHER = Actor(Role.MEMBER, "LIVE-1"), Actor(Role.MEMBER, "LIVE-2")


@pytest_asyncio.fixture
async def notices(db: str) -> AsyncIterator[None]:
    """This process hears the database's change notices (LISTEN on PostgreSQL)."""
    if not is_postgres_url(db):
        yield
        return
    async with listening(db):
        yield


@asynccontextmanager
async def following(actor: Actor | None) -> AsyncIterator[asyncio.Queue[Any]]:
    """`NotificationReceived` in the background, as `actor`; its results land in the queue."""
    results: asyncio.Queue[Any] = asyncio.Queue()
    before = LOCAL.subscribers(NOTIFICATIONS)

    async def run() -> None:
        async for result in subscribe(operation("NotificationReceived"), {}, actor):
            await results.put(result)

    task = asyncio.create_task(run())
    for _ in range(200):  # until the subscription listens (or ended with an error)
        if LOCAL.subscribers(NOTIFICATIONS) > before or task.done():
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # its first read of the database
    try:
        yield results
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def received(results: asyncio.Queue[Any]) -> dict[str, Any]:
    result = await asyncio.wait_for(results.get(), 10)
    assert not result.errors, result.errors
    message: dict[str, Any] = result.data["notificationReceived"]
    return message


async def credit(external_id: str, ref: str) -> None:
    """A billing credit its member is told of."""
    await points.award(
        member_external_id=external_id,
        amount=2_000,
        reason="bill",
        external_ref=ref,
        now=datetime.now(UTC),
        tell_from=1_000,
    )


async def test_a_member_hears_of_each_new_message_of_their_own_once(
    api: GraphQLClient, notices: None
) -> None:
    await small_mall(api)
    await member_with_points(ME.subject, 30_000)
    await member_with_points(OTHER.subject, 30_000)
    async with following(ME) as mine, following(OTHER) as theirs:
        order = await place(ME.subject, "live-1", ("EL-PB10K", 1))
        message = await received(mine)
        assert (message["kind"], message["read"]) == ("ORDER_CONFIRMED", False)
        assert message["order"] == {"number": order.number}
        assert order.number in message["text"]
        me = await members.find_member(external_id=ME.subject)
        assert me is not None
        await inbox.mark_read(member_id=me.id, ids=None, now=datetime.now(UTC))
        await credit(OTHER.subject, "live-other")  # told to the other member only
        await credit(ME.subject, "live-mine")
        assert (await received(mine))["kind"] == "POINTS_CREDITED", "reading sent nothing"
        assert (await received(theirs))["kind"] == "POINTS_CREDITED"
        await asyncio.sleep(0.2)
        assert mine.empty(), "nothing else was sent"
        assert theirs.empty(), "the other member heard nothing of the first's order"


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (None, "UNAUTHENTICATED"),
        (Actor(Role.ADMIN, "admin-1"), "FORBIDDEN"),
        (Actor(Role.WAREHOUSE, "staff-1", frozenset({"SH01"})), "FORBIDDEN"),
    ],
)
async def test_only_members_follow_an_inbox(
    api: GraphQLClient, notices: None, actor: Actor | None, code: str
) -> None:
    results = [r async for r in subscribe(operation("NotificationReceived"), {}, actor)]
    assert [[e.extensions["code"] for e in r.errors or []] for r in results] == [[code]]
    assert LOCAL.subscribers(NOTIFICATIONS) == 0, "refused subscriptions listen to nothing"
