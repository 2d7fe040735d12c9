"""An SMS that fails for good raises an alert: one ERROR line per message, naming the
message, its kind and the error, never the number; counted for /metrics. On both databases,
over the real SMPP adapter and the local SMS centre."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest
from aiosmpplib import SmppCommandStatus

from api.logs import FORMAT, RedactingJsonFormatter
from models.notifications.delivery import DeliveryPolicy
from models.notifications.models import Notification, SmsStatus
from models.notifications.models import NotificationKind as Kind
from models.notifications.outbox import Notice, notify_many
from models.notifications.rules import QuietHours, Retries
from models.notifications.scheduled import FAILED_ALERT, DeliveryLoop
from models.notifications.smpp import SmppCentre
from tests.fakes.smsc import SmscFake
from tests.integration.test_sms_delivery import NOON, config, many, running_from
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.timeout(120)
POLICY = DeliveryPolicy(
    batch=100,
    lease=timedelta(seconds=30),
    retries=Retries(attempts=3, first=timedelta(milliseconds=50), cap=timedelta(milliseconds=100)),
    quiet=QuietHours(),
)


async def failed_rows() -> list[Notification]:
    return await Notification.filter(sms_status=SmsStatus.FAILED).order_by("id")


async def until_failed(count: int) -> None:
    async with asyncio.timeout(20):
        while len(await failed_rows()) < count:
            await asyncio.sleep(0.05)


async def test_each_message_out_of_tries_or_refused_raises_one_alert_without_its_number(
    api: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    await many(3, members_=3)  # to +8613800130000, ...0001 and ...0002
    caplog.set_level(logging.ERROR, logger="pointsmall.sms")
    async with SmscFake.running(password="secret") as smsc:
        smsc.rejections["+8613800130000"] = SmppCommandStatus.ESME_RINVDSTADR  # for good
        smsc.rejections["+8613800130001"] = SmppCommandStatus.ESME_RSYSERR  # for good too
        loop = DeliveryLoop(
            SmppCentre(config(smsc, throttle_pause=0.01)),
            policy=POLICY,
            clock=running_from(NOON),
            idle=0.02,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(loop.run(stop))
        try:
            await until_failed(2)
            await smsc.wait_for(lambda: len(smsc.received) == 1)  # the third went
            smsc.throttle(seconds=60)  # a fourth is throttled on every try: out of tries
            third = await Notification.filter(sms_to="+8613800130002").first()
            assert third is not None
            assert third.member_id is not None
            fourth = Notice(third.member_id, "alerts:4", {"number": "PM000004", "points": 4})
            await notify_many(Kind.ORDER_DELIVERED, [fourth], now=NOON)
            await until_failed(3)
            await asyncio.sleep(0.3)  # more rounds: a failed message is never alerted again
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
    rows = await failed_rows()
    alerts = [r for r in caplog.records if getattr(r, "alert", None) == FAILED_ALERT]
    assert sorted(r.notification_id for r in alerts) == [r.id for r in rows]  # type: ignore[attr-defined]
    assert {r.kind for r in alerts} == {Kind.ORDER_DELIVERED.value}  # type: ignore[attr-defined]
    assert {r.levelname for r in alerts} == {"ERROR"}
    assert sorted(r.error for r in alerts) == sorted(row.sms_error for row in rows)  # type: ignore[attr-defined]
    assert [row.sms_error for row in rows] == ["ESME_RINVDSTADR", "ESME_RSYSERR", "ESME_RTHROTTLED"]
    assert [row.sms_attempts for row in rows] == [1, 1, POLICY.retries.attempts]
    assert loop.counts.failed == 3
    formatter = RedactingJsonFormatter(FORMAT)
    for record in alerts:
        record.request_id = "-"
        line = json.loads(formatter.format(record))
        assert line["notification_id"] == record.notification_id  # type: ignore[attr-defined]
        assert "1380013" not in json.dumps(line), "the alert never names the number"
        assert "1380013" not in record.getMessage()
