"""Subscriptions catch up after notices were lost (the LISTEN connection was away).

A change made while the listener was reconnecting sends no notice that reaches this
process; the listener then delivers `RESYNC`, and each subscription reads again what it
follows. The changes here are written without announcing them, as if their notices were
lost, and a private bus stands for the process's one. A member's message whose transaction
committed after a newer one's is found as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from fulfilment.live import order_changes, warehouse_alerts
from fulfilment.models import Alert, AlertKind
from models.actors import Actor, Role
from models.catalog.models import Warehouse
from models.events import ALERTS, NOTIFICATIONS, ORDERS, RESYNC, InProcessBus
from models.members import service as members
from models.notifications import outbox
from models.notifications.live import new_messages
from models.notifications.models import Notification, NotificationKind, SmsStatus
from models.orders.models import Order, OrderStatus
from tests.support.catalog import small_mall
from tests.support.fulfilment import place
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

MEMBER = Actor(Role.MEMBER, "RS1")
T = TypeVar("T")


async def started(
    stream: AsyncGenerator[T, None], bus: InProcessBus, channel: str
) -> asyncio.Task[T]:
    """The stream's next item as a task, once the stream listens."""
    task = asyncio.create_task(anext(stream))
    for _ in range(200):
        if bus.subscribers(channel) or task.done():
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # its first read of the database
    return task


async def test_an_order_changed_while_notices_were_lost_is_sent_on_resync(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("RS1", 30_000)
    order = await place("RS1", "rs", ("EL-PB10K", 1))
    bus = InProcessBus()
    stream = order_changes(number=order.number, actor=MEMBER, bus=bus)
    following = await started(stream, bus, ORDERS)
    later = datetime.now(UTC) + timedelta(seconds=5)
    await Order.filter(id=order.id).update(status=OrderStatus.PICKING, updated_at=later)
    bus.deliver(ORDERS, "PM-SOMEONE-ELSE")  # not this order: nothing to send
    await asyncio.sleep(0.1)
    assert not following.done()
    bus.deliver(ORDERS, RESYNC)
    changed = await asyncio.wait_for(following, 5)
    assert (changed.number, changed.status) == (order.number, OrderStatus.PICKING)
    again = asyncio.create_task(anext(stream))
    bus.deliver(ORDERS, RESYNC)  # nothing changed since: nothing sent
    await asyncio.sleep(0.2)
    assert not again.done()
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)
    await stream.aclose()


async def test_alerts_raised_while_notices_were_lost_are_sent_once_on_resync(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("RS1", 30_000)
    first = await place("RS1", "a", ("HM-MUG", 1))  # SH01
    second = await place("RS1", "b", ("HM-MUG", 1))
    sh01 = await Warehouse.get(code="SH01")
    now = datetime.now(UTC)
    old = await Alert.create(
        order_id=first.id, warehouse_id=sh01.id, kind=AlertKind.AT_RISK, raised_at=now
    )
    bus = InProcessBus()
    stream = warehouse_alerts(warehouse_code="SH01", bus=bus)
    following = await started(stream, bus, ALERTS)
    missed = [
        await Alert.create(
            order_id=o.id, warehouse_id=sh01.id, kind=AlertKind.BREACHED, raised_at=now
        )
        for o in (first, second)
    ]
    bus.deliver(ALERTS, RESYNC)
    received = [(await asyncio.wait_for(following, 5)).alert.id]
    received.append((await asyncio.wait_for(anext(stream), 5)).alert.id)
    assert received == [a.id for a in missed], "the alert from before the subscription is not sent"
    assert old.id not in received
    late = asyncio.create_task(anext(stream))
    bus.deliver(ALERTS, str(missed[0].id))  # the lost notice turns up after all
    bus.deliver(ALERTS, RESYNC)
    await asyncio.sleep(0.2)
    assert not late.done(), "nothing is sent twice"
    fresh = await Alert.create(
        order_id=second.id, warehouse_id=sh01.id, kind=AlertKind.AT_RISK, raised_at=now
    )
    bus.deliver(ALERTS, str(fresh.id))
    assert (await asyncio.wait_for(late, 5)).alert.id == fresh.id
    await stream.aclose()


async def written(member_id: int, key: str, *, row_id: int | None = None) -> Notification:
    """A message written with its notice lost (it reaches no private bus); with `row_id`, a
    message whose transaction took its id early and committed only now."""
    if row_id is None:
        await outbox.notify(
            kind=NotificationKind.POINTS_EXPIRING,
            member_id=member_id,
            dedupe_key=key,
            data={"points": 10, "expires_on": "2027-12-31"},
            now=datetime.now(UTC),
        )
        return await Notification.get(dedupe_key=key)
    return await Notification.create(
        id=row_id,
        member_id=member_id,
        kind=NotificationKind.POINTS_EXPIRING,
        dedupe_key=key,
        data={},
        created_at=datetime.now(UTC),
        sms_status=SmsStatus.SKIPPED,
    )


async def test_messages_written_while_notices_were_lost_are_sent_once_on_resync(
    api: GraphQLClient,
) -> None:
    me = await members.ensure_member(external_id="RS1")
    await written(me.id, "before")  # there before the subscription: never sent
    bus = InProcessBus()
    stream = new_messages(member_id=me.id, bus=bus)
    following = await started(stream, bus, NOTIFICATIONS)
    lost = await written(me.id, "lost")
    bus.deliver(NOTIFICATIONS, str(me.id + 1))  # another member's inbox: nothing to read
    await asyncio.sleep(0.1)
    assert not following.done()
    bus.deliver(NOTIFICATIONS, RESYNC)
    assert (await asyncio.wait_for(following, 5)).id == lost.id
    again = asyncio.create_task(anext(stream))
    bus.deliver(NOTIFICATIONS, RESYNC)
    bus.deliver(NOTIFICATIONS, str(me.id))
    await asyncio.sleep(0.2)
    assert not again.done(), "a message is sent once, however many notices name it"
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)
    await stream.aclose()


async def test_a_message_that_committed_after_a_newer_one_is_still_sent(
    api: GraphQLClient,
) -> None:
    me = await members.ensure_member(external_id="RS1")
    bus = InProcessBus()
    stream = new_messages(member_id=me.id, bus=bus)
    following = await started(stream, bus, NOTIFICATIONS)
    newer = await written(me.id, "newer", row_id=9_000_002)
    bus.deliver(NOTIFICATIONS, str(me.id))
    assert (await asyncio.wait_for(following, 5)).id == newer.id
    older = await written(me.id, "older", row_id=9_000_001)
    bus.deliver(NOTIFICATIONS, str(me.id))
    assert (await asyncio.wait_for(anext(stream), 5)).id == older.id
    await stream.aclose()
