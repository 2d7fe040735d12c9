"""The outbox reaches the operator's push platform: the push loop over the real webhook
adapter and the local push platform (a real HTTP server that checks signatures), on both
databases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from api.worker import run_forever
from models.members import service as members
from models.members.models import Tier
from models.notifications.models import Notification, PushStatus
from models.notifications.models import NotificationKind as Kind
from models.notifications.outbox import Notice, notify_many
from models.notifications.push import PushPolicy
from models.notifications.push_webhook import WebhookConfig, WebhookPush
from models.notifications.rules import QuietHours, Retries
from models.notifications.scheduled import FAILED_ALERT, PushLoop
from tests.fakes.push_receiver import PushReceiver
from tests.fakes.smsc import SmscFake
from tests.support.databases import target
from tests.support.graphql import GraphQLClient
from tests.support.settings import settings_for

pytestmark = pytest.mark.timeout(120)
SECRET = "push-secret-of-the-tests"
NOON = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: no quiet hours
MIDNIGHT = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
FAST = PushPolicy(
    batch=50,
    lease=timedelta(seconds=30),
    retries=Retries(attempts=5, first=timedelta(milliseconds=50), cap=timedelta(milliseconds=100)),
    quiet=QuietHours(),
)


def running_from(start: datetime) -> Callable[[], datetime]:
    started = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - started)


@contextlib.asynccontextmanager
async def pushing(
    url: str,
    *,
    secret: str = SECRET,
    policy: PushPolicy = FAST,
    starting: datetime = NOON,
    timeout: float = 2.0,
) -> AsyncIterator[PushLoop]:
    platform = WebhookPush(WebhookConfig(url=url, secret=secret, timeout_seconds=timeout))
    loop = PushLoop(platform, policy=policy, clock=running_from(starting), idle=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        yield loop
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def member(
    external_id: str, *, language: str = "zh-CN", opt_outs: tuple[str, ...] = ()
) -> int:
    found = await members.upsert_member(
        external_id=external_id,
        display_name="",
        tier=Tier.STANDARD,
        contact=members.Contact(mobile="", language=language, opt_outs=opt_outs),
    )
    return found.id


async def written(
    count: int, *, kind: Kind = Kind.ORDER_DELIVERED, at: datetime = NOON
) -> list[int]:
    """`count` messages to two members (one reads English); their ids."""
    ids = [await member("P-ZH"), await member("P-EN", language="en")]
    notices = [
        Notice(ids[n % 2], f"push-test:{kind}:{n}", {"number": f"PM{n:06d}", "points": n})
        for n in range(count)
    ]
    await notify_many(kind, notices, now=at)
    rows = Notification.filter(kind=kind).order_by("id").values_list("id", flat=True)
    return [int(i) for i in await rows]


async def push_statuses() -> list[PushStatus]:
    rows = await Notification.all().order_by("id").values_list("push_status", flat=True)
    return [PushStatus(s) for s in rows]


async def settled(wanted: PushStatus, seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while not (found := await push_statuses()) or any(s is not wanted for s in found):
            await asyncio.sleep(0.05)


async def test_each_message_arrives_signed_and_once(api: GraphQLClient) -> None:
    ids = await written(30)
    async with PushReceiver.running(secret=SECRET) as platform, pushing(platform.url):
        await platform.wait_for(lambda: len(platform.delivered) == 30)
        await settled(PushStatus.SENT)
    assert platform.bad_signatures == 0
    assert len(platform.accepted) == 30, "each message once"
    assert sorted(platform.delivered) == sorted(f"notification-{i}" for i in ids)
    by_number = {push.body["orderNumber"]: push for push in platform.delivered.values()}
    first = by_number["PM000000"].body
    assert (first["member"], first["kind"]) == ("P-ZH", "ORDER_DELIVERED")
    assert first["text"] == "【积分商城】您的订单PM000000已签收，感谢您的兑换。"
    assert by_number["PM000000"].key == f"notification-{first['id']}"
    english = by_number["PM000001"].body
    assert (english["member"], english["language"]) == ("P-EN", "en")
    assert english["text"].startswith("[PointsMall] Order PM000001 was delivered.")


@pytest.mark.skipif(target() != "postgres", reason="workers race on PostgreSQL")
async def test_several_workers_push_each_message_exactly_once(api: GraphQLClient) -> None:
    ids = await written(1_000)
    async with (
        PushReceiver.running(secret=SECRET) as platform,
        pushing(platform.url),
        pushing(platform.url),
        pushing(platform.url),
    ):
        await platform.wait_for(lambda: len(platform.delivered) == 1_000, timeout=60)
        await settled(PushStatus.SENT, seconds=30)
    assert (len(platform.accepted), platform.duplicates) == (1_000, 0)
    assert sorted(platform.delivered) == sorted(f"notification-{i}" for i in ids)


async def test_a_platform_answering_500_is_tried_again(api: GraphQLClient) -> None:
    [only] = await written(1)
    async with PushReceiver.running(secret=SECRET) as platform:
        platform.fail_next(3, status=503)
        async with pushing(platform.url):
            await settled(PushStatus.SENT)
    assert platform.requests == 4
    assert list(platform.delivered) == [f"notification-{only}"]
    row = await Notification.get(id=only)
    assert (row.push_attempts, row.push_error) == (4, "")


async def test_a_push_resent_after_a_timeout_shows_once(api: GraphQLClient) -> None:
    [only] = await written(1)
    async with PushReceiver.running(secret=SECRET) as platform:
        platform.delay_next(1, 1.0)  # taken, but after the sender gave up waiting
        async with pushing(platform.url, timeout=0.3):
            await settled(PushStatus.SENT)
            await platform.wait_for(lambda: len(platform.accepted) == 2)
    assert list(platform.delivered) == [f"notification-{only}"], "the resend was dropped"
    assert platform.duplicates == 1
    assert (await Notification.get(id=only)).push_attempts == 2


async def test_the_platform_detects_a_wrong_secret_and_the_messages_fail_with_an_alert(
    api: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await written(2)
    caplog.set_level(logging.ERROR, logger="pointsmall.push")
    async with (
        PushReceiver.running(secret=SECRET) as platform,
        pushing(platform.url, secret="not-the-platforms-secret"),
    ):
        await settled(PushStatus.FAILED)
    assert (platform.bad_signatures, platform.delivered) == (2, {})
    rows = await Notification.filter(id__in=ids).order_by("id")
    assert [(r.push_status, r.push_error, r.push_attempts) for r in rows] == [
        (PushStatus.FAILED, "HTTP 401", 1),
        (PushStatus.FAILED, "HTTP 401", 1),
    ]
    alerts = [r for r in caplog.records if getattr(r, "alert", None) == FAILED_ALERT]
    assert sorted(r.notification_id for r in alerts) == ids  # type: ignore[attr-defined]
    assert {(r.levelname, r.channel, r.kind, r.error) for r in alerts} == {  # type: ignore[attr-defined]
        ("ERROR", "push", "ORDER_DELIVERED", "HTTP 401")
    }


async def test_after_the_last_try_a_push_is_failed_and_alerted_once(
    api: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    [only] = await written(1)
    caplog.set_level(logging.ERROR, logger="pointsmall.push")
    async with PushReceiver.running(secret=SECRET) as platform:
        platform.refuse_all(500)
        async with pushing(platform.url) as loop:
            await settled(PushStatus.FAILED)
            await asyncio.sleep(0.3)  # more rounds: the failed push is never taken again
    assert platform.requests == FAST.retries.attempts
    assert (loop.counts.failed, loop.counts.retried) == (1, FAST.retries.attempts - 1)
    [alert] = [r for r in caplog.records if getattr(r, "alert", None) == FAILED_ALERT]
    assert alert.getMessage() == (
        f"notification {only} (ORDER_DELIVERED) failed for good by push after 5 tries: HTTP 500"
    )


async def test_a_kind_turned_off_is_not_pushed_and_quiet_hours_hold_the_rest(
    api: GraphQLClient,
) -> None:
    quiet_one = await member("P-Q")
    off = await member("P-OFF", opt_outs=("ORDER_DELIVERED",))
    notices = [Notice(m, f"k:{m}", {"number": "PM000009", "points": 1}) for m in (quiet_one, off)]
    await notify_many(Kind.ORDER_DELIVERED, notices, now=MIDNIGHT)
    await notify_many(
        Kind.ORDER_SHIPPED,
        [Notice(quiet_one, "s:1", {"number": "PM000009", "carrier": "SF", "tracking": "SF1"})],
        now=MIDNIGHT,
    )
    assert await push_statuses() == [PushStatus.PENDING, PushStatus.SKIPPED, PushStatus.PENDING]
    async with (
        PushReceiver.running(secret=SECRET) as platform,
        pushing(platform.url, starting=MIDNIGHT),
    ):
        await platform.wait_for(lambda: len(platform.delivered) == 1)
        await asyncio.sleep(0.3)
    [shipped] = platform.delivered.values()
    assert shipped.body["kind"] == "ORDER_SHIPPED", "only the urgent one goes at night"
    assert await push_statuses() == [PushStatus.PENDING, PushStatus.SKIPPED, PushStatus.SENT]


async def test_a_push_too_old_to_matter_is_skipped_not_sent(api: GraphQLClient) -> None:
    await written(1, at=NOON - FAST.max_age - timedelta(minutes=1))
    async with PushReceiver.running(secret=SECRET) as platform, pushing(platform.url):
        await settled(PushStatus.SKIPPED)
    assert platform.requests == 0
    assert (await Notification.get()).push_error == "too old to push"


async def test_the_worker_pushes_when_the_setting_is_there(api: GraphQLClient, db: str) -> None:
    ids = await written(3, at=datetime.now(UTC))
    async with PushReceiver.running(secret=SECRET) as platform:
        settings = settings_for(
            db, push_webhook_url=platform.url, push_webhook_secret=SECRET, quiet_hours="00:00-00:00"
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(run_forever(settings, stop=stop))
        try:
            await platform.wait_for(lambda: len(platform.delivered) == 3, timeout=20)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 20)
    assert sorted(platform.delivered) == sorted(f"notification-{i}" for i in ids)


async def test_without_the_setting_nothing_is_pushed(api: GraphQLClient, db: str) -> None:
    await written(3, at=datetime.now(UTC))
    async with SmscFake.running(password="secret") as smsc:
        settings = settings_for(
            db,
            smsc_url=f"smpp://pointsmall:secret@{smsc.host}:{smsc.port}",
            quiet_hours="00:00-00:00",
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(run_forever(settings, stop=stop))
        try:
            await asyncio.sleep(1.5)  # the worker's delivery loop runs its rounds meanwhile
        finally:
            stop.set()
            await asyncio.wait_for(worker, 20)
    assert await push_statuses() == [PushStatus.PENDING] * 3, "no worker touched a push"
