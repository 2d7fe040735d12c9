"""On PostgreSQL the worker hears each message's commit and delivers it at once: with the
loops' pause between empty rounds made endless, only the commit's notice can start the
round that sends it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from api.messaging import Messaging
from models.notifications.models import NotificationKind as Kind
from models.notifications.outbox import Notice, notify_many
from models.notifications.smpp import SmppCentre
from tests.fakes.push_receiver import PushReceiver
from tests.fakes.smsc import SmscFake
from tests.integration.test_sms_delivery import config, member
from tests.support.databases import target
from tests.support.graphql import GraphQLClient
from tests.support.settings import settings_for

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(target() != "postgres", reason="commit notices are PostgreSQL's"),
]


async def test_a_committed_message_starts_a_round_of_each_loop(api: GraphQLClient, db: str) -> None:
    owner = await member("W-1", "13800138000")
    async with (
        SmscFake.running(password="secret") as smsc,
        PushReceiver.running(secret="wake-secret") as platform,
    ):
        settings = settings_for(
            db,
            push_webhook_url=platform.url,
            push_webhook_secret="wake-secret",
            quiet_hours="00:00-00:00",
        )
        messaging = Messaging(
            settings, clock=lambda: datetime.now(UTC), centre=SmppCentre(config(smsc))
        )
        assert messaging.push is not None
        messaging.loop.rests.idle = messaging.push.rests.idle = 3600.0
        stop = asyncio.Event()
        messaging.start(stop)
        try:
            await asyncio.sleep(1.0)  # both loops found nothing and rest for an hour
            notice = Notice(owner, "wake:1", {"number": "PM000001", "points": 1})
            await notify_many(Kind.ORDER_DELIVERED, [notice], now=datetime.now(UTC))
            await smsc.wait_for(lambda: len(smsc.received) == 1, timeout=20)
            await platform.wait_for(lambda: len(platform.delivered) == 1, timeout=20)
        finally:
            stop.set()
            await asyncio.wait_for(messaging.wait(), 20)
    assert "PM000001" in smsc.received[0].text
