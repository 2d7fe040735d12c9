"""A member's inbox is theirs alone: listed, by global id, marked read, or heard live.

The world's orders wrote a confirmation for member A and one for member B. Each test asks
for A's messages as someone who may not have them and checks the answer (nothing, null, or
nothing changed) and that neither A's order number nor A's address is in the response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from strawberry import relay

from models.actors import Actor, Role
from models.events import LOCAL, NOTIFICATIONS
from models.events.listener import listening
from models.members.models import Member
from models.notifications.models import Notification
from models.points import service as points
from tests.security.world import A_SECRETS, MEMBER_A, MEMBER_B, World, build_world, caller_token
from tests.support.databases import is_postgres_url
from tests.support.fulfilment import subscribe
from tests.support.graphql import GraphQLClient, Result, operation

MESSAGE = "id kind text read order { number shippingAddress { recipient phone line1 } }"
LISTED = (
    "{ me { unreadNotifications notifications(first: 100) { totalCount"
    f" edges {{ node {{ {MESSAGE} }} }} }} }} }}"
)
MARK = (
    "mutation($ids: [ID!]) { markNotificationsRead(input: {ids: $ids}) {"
    " marked unreadNotifications errors { code field } } }"
)


@pytest_asyncio.fixture
async def notices(db: str) -> AsyncIterator[None]:
    """This process hears the database's change notices (LISTEN on PostgreSQL)."""
    if not is_postgres_url(db):
        yield
        return
    async with listening(db):
        yield


async def ask(api: GraphQLClient, caller: str, document: str, world: World, **v: Any) -> Result:
    result = await api.query(document, v, auth=caller_token(caller))
    text = json.dumps(result.body, ensure_ascii=False)
    if caller not in ("member_a", "admin"):
        assert world.order_a not in text, f"{caller} saw A's order: {text}"
        assert not [s for s in A_SECRETS if s in text], f"{caller} saw A's address: {text}"
    return result


async def a_message(world: World) -> str:
    """The global id of A's confirmation of `world.order_a`."""
    member = await Member.get(external_id=MEMBER_A)
    message = await Notification.filter(member_id=member.id).order_by("id").first()
    assert message is not None
    return relay.to_base64("Notification", message.id)


async def test_each_member_lists_only_their_own_messages(api: GraphQLClient) -> None:
    world = await build_world(api)
    b = (await ask(api, "member_b", LISTED, world)).data["me"]
    numbers = [e["node"]["order"]["number"] for e in b["notifications"]["edges"]]
    assert numbers == [world.order_b]
    assert (b["unreadNotifications"], b["notifications"]["totalCount"]) == (1, 1)
    a = (await ask(api, "member_a", LISTED, world)).data["me"]
    orders = [e["node"]["order"] for e in a["notifications"]["edges"]]
    # A's tickets' messages name no order (the world's after-sales part).
    assert {o["number"] for o in orders if o is not None} == {world.order_a, world.spare_a}


async def test_a_message_by_global_id_is_null_for_anyone_but_its_member_and_admins(
    api: GraphQLClient,
) -> None:
    world = await build_world(api)
    gid = await a_message(world)
    query = f"query($id: ID!) {{ node(id: $id) {{ id ... on Notification {{ {MESSAGE} }} }} }}"
    for caller in ("anonymous", "member_b", "staff_w1", "staff_w2"):
        result = await ask(api, caller, query, world, id=gid)
        assert result.body.get("data") == {"node": None}, (caller, result.body)
    own = (await ask(api, "member_a", query, world, id=gid)).data["node"]
    assert own["order"]["number"] == world.order_a
    assert (await ask(api, "admin", query, world, id=gid)).data["node"]["id"] == gid


async def test_marking_another_members_messages_changes_nothing_and_says_nothing(
    api: GraphQLClient,
) -> None:
    world = await build_world(api)
    gid = await a_message(world)
    unknown = relay.to_base64("Notification", 10**9)
    unread = "{ me { unreadNotifications } }"
    a_before = (await ask(api, "member_a", unread, world)).data["me"]["unreadNotifications"]
    b_marks_a = (await ask(api, "member_b", MARK, world, ids=[gid])).data
    b_marks_nothing = (await ask(api, "member_b", MARK, world, ids=[unknown])).data
    assert b_marks_a == b_marks_nothing, "another member's message reads as one that is not there"
    assert b_marks_a["markNotificationsRead"] == {
        "marked": 0,
        "unreadNotifications": 1,
        "errors": [],
    }
    assert (await Notification.get(id=int(relay.GlobalID.from_id(gid).node_id))).read_at is None
    a = await ask(api, "member_a", unread, world)
    # Two confirmations and the messages of A's tickets, all still unread.
    assert a.data["me"]["unreadNotifications"] == a_before >= 2


async def test_a_member_does_not_hear_another_members_messages(
    api: GraphQLClient, notices: None
) -> None:
    await build_world(api)
    heard: list[Any] = []

    async def follow(subject: str) -> None:
        actor = Actor(Role.MEMBER, subject)
        async for result in subscribe(operation("NotificationReceived"), {}, actor):
            heard.append((subject, result))

    tasks = [asyncio.create_task(follow(MEMBER_B)), asyncio.create_task(follow(MEMBER_A))]
    for _ in range(200):  # until both listen
        if LOCAL.subscribers(NOTIFICATIONS) == 2:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # and each read what was there
    try:
        await points.award(
            member_external_id=MEMBER_A,
            amount=5_000,
            reason="bill",
            external_ref="sec-told-a",
            now=datetime.now(UTC),
            tell_from=1_000,
        )
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert [subject for subject, _ in heard] == [MEMBER_A], heard
    assert heard[0][1].data["notificationReceived"]["kind"] == "POINTS_CREDITED"
