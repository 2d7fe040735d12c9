"""The outbox reaches handsets: the delivery loop over the real SMPP adapter and the local SMS
centre (real SMPP over TCP), on both databases."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiosmpplib import SmppCommandStatus
from tortoise.transactions import in_transaction

from fulfilment.planning import Planner
from models.members import service as members
from models.members.models import Tier
from models.notifications.delivery import DeliveryPolicy, claim
from models.notifications.models import Notification, SmsStatus
from models.notifications.models import NotificationKind as Kind
from models.notifications.outbox import Notice, notify_many
from models.notifications.rules import QuietHours, Retries
from models.notifications.scheduled import DeliveryLoop
from models.notifications.smpp import SmppCentre, SmppConfig
from models.orders import redemption
from models.orders.rules import Address, LineRequest
from tests.fakes.smsc import SmscFake
from tests.support.catalog import small_mall
from tests.support.databases import target
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

pytestmark = pytest.mark.timeout(300)
ADDRESS = Address("王芳", "13800138000", "上海市", "上海市", "黄浦区", "南京东路 1 号", "", "")
# Tomorrow's date: the clock of the worker must be after the messages' wall-clock writes.
DAY = (datetime.now(UTC) + timedelta(days=1)).date()
NOON = datetime(DAY.year, DAY.month, DAY.day, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: no quiet hours
FAST = DeliveryPolicy(
    batch=100,
    lease=timedelta(seconds=30),
    retries=Retries(attempts=20, first=timedelta(milliseconds=50), cap=timedelta(milliseconds=200)),
    quiet=QuietHours(),
)


def config(smsc: SmscFake, **changes: object) -> SmppConfig:
    values: dict[str, object] = {
        "host": smsc.host,
        "port": smsc.port,
        "system_id": "pointsmall",
        "password": "secret",
        "source": "10658888",
        "window": 10,
        "submit_timeout": 1.0,
        "reconnect_initial": 0.05,
        "reconnect_max": 0.2,
        "throttle_pause": 0.05,
        **changes,
    }
    return SmppConfig(**values)  # type: ignore[arg-type]


def running_from(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at `start` and runs."""
    started = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - started)


@contextlib.asynccontextmanager
async def delivering(
    smsc: SmscFake, *, loops: int = 1, starting: datetime = NOON, **changes: object
) -> AsyncIterator[list[DeliveryLoop]]:
    """Delivery loops (each its own bind, as several workers would) until the block ends;
    their clock starts at `starting` (noon in Shanghai: no quiet hours); `changes` to the
    SMPP configuration."""
    clock = running_from(starting)
    stop = asyncio.Event()
    running = [
        DeliveryLoop(SmppCentre(config(smsc, **changes)), policy=FAST, clock=clock, idle=0.02)
        for _ in range(loops)
    ]
    tasks = [asyncio.create_task(loop.run(stop)) for loop in running]
    try:
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.05)


async def member(external_id: str, mobile: str, language: str = "zh-CN") -> int:
    found = await members.upsert_member(
        external_id=external_id,
        display_name="",
        tier=Tier.STANDARD,
        contact=members.Contact(mobile=mobile, language=language),
    )
    return found.id


async def statuses(**where: object) -> list[SmsStatus]:
    rows = await Notification.filter(**where).order_by("id").values_list("sms_status", flat=True)
    return [SmsStatus(s) for s in rows]


async def test_a_redemption_reaches_the_handset_and_a_text_gets_its_answer(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    owner = await member("S-1", "13800138000")
    await member_with_points("S-1", 20_000)
    async with SmscFake.running(password="secret") as smsc, delivering(smsc):
        request = redemption.RedeemRequest("k1", [LineRequest("EL-PB10K", 1)], ADDRESS)
        placed = await redemption.redeem(
            member_external_id="S-1", request=request, now=datetime.now(UTC), planner=Planner()
        )
        await smsc.wait_for(lambda: len(smsc.received) == 1, timeout=10)
        [sms] = smsc.received
        assert sms.to == "+8613800138000"
        assert sms.text.startswith(f"【积分商城】您的订单{placed.order.number}已确认")
        ship_date = placed.order.promised_ship_date
        assert ship_date is not None
        assert ship_date.isoformat() in sms.text
        await eventually(lambda: _all(statuses(member_id=owner), SmsStatus.DELIVERED), seconds=10)
        await smsc.text_from("+8613800138000", "JF")
        await smsc.wait_for(lambda: len(smsc.received) == 2, timeout=10)
        assert smsc.received[1].text.startswith("【积分商城】您的可用积分13100，余额13100。")


async def _all(found: Awaitable[list[SmsStatus]], wanted: SmsStatus) -> bool:
    got = await found
    return bool(got) and all(s is wanted for s in got)


async def many(count: int, *, members_: int = 10) -> list[str]:
    """`count` messages to `members_` members, each text unique (an order number)."""
    ids = [await member(f"S-M{i}", f"1380013{i:04d}") for i in range(members_)]
    notices = [
        Notice(ids[n % members_], f"test:{n}", {"number": f"PM{n:06d}", "points": n})
        for n in range(count)
    ]
    await notify_many(Kind.ORDER_DELIVERED, notices, now=NOON)
    return [f"PM{n:06d}" for n in range(count)]


def numbers_sent(smsc: SmscFake) -> list[str]:
    return [s.text.split("您的订单")[1][:8] for s in smsc.received]


@pytest.mark.skipif(target() != "postgres", reason="workers race on PostgreSQL")
async def test_several_workers_send_each_message_exactly_once(api: GraphQLClient) -> None:
    expected = await many(10_000, members_=2_500)
    # The ordinary path, so the product's own wait for an answer: with the other tests' 1 s,
    # a pause of the test process (its collector, late in a full run) made a window's
    # answers late, and a late answer is sent again, the resend no SMPP client can exclude.
    centre = SmscFake.running(password="secret")
    async with centre as smsc, delivering(smsc, loops=3, submit_timeout=10.0):
        await smsc.wait_for(lambda: len(smsc.received) >= 10_000, timeout=200)
        await eventually(
            lambda: _all(statuses(kind=Kind.ORDER_DELIVERED), SmsStatus.DELIVERED), seconds=60
        )
    sent = numbers_sent(smsc)
    assert sorted(sent) == expected, "every message once, none twice, none missing"


async def test_a_members_messages_go_out_in_the_order_they_were_written(
    api: GraphQLClient,
) -> None:
    expected = await many(60, members_=3)
    async with SmscFake.running(password="secret") as smsc:
        smsc.throttle(25)  # the centre asks to slow down: some wait and go again
        async with delivering(smsc, loops=2):
            await smsc.wait_for(lambda: len(smsc.received) >= 60, timeout=60)
    by_member: dict[str, list[str]] = {}
    for sms, number in zip(smsc.received, numbers_sent(smsc), strict=True):
        by_member.setdefault(sms.to, []).append(number)
    assert sorted(numbers_sent(smsc)) == expected
    for sent in by_member.values():
        assert sent == sorted(sent), "a member's messages in the order written"


async def test_messages_wait_while_the_centre_is_away_then_all_go_out(api: GraphQLClient) -> None:
    expected = await many(30)
    async with SmscFake.running(password="secret") as smsc:
        smsc.refuse_binds()
        async with delivering(smsc):
            await asyncio.sleep(1.5)
            assert smsc.received == []
            assert set(await statuses(kind=Kind.ORDER_DELIVERED)) <= {
                SmsStatus.PENDING,
                SmsStatus.SENDING,
            }
            smsc.accept_binds()
            await smsc.wait_for(lambda: len(smsc.received) >= 30, timeout=30)
    assert sorted(numbers_sent(smsc)) == expected


async def test_a_connection_dropped_mid_window_loses_nothing(api: GraphQLClient) -> None:
    expected = await many(80)
    async with SmscFake.running(password="secret") as smsc:
        smsc.drop_after(15)
        async with delivering(smsc):
            await eventually(lambda: _none_waiting(), seconds=40)
    sent = numbers_sent(smsc)
    assert set(sent) == set(expected), "nothing lost"
    # A submit the centre took but never answered before the drop may go twice (README):
    # never more than the window's worth.
    assert len(sent) - len(set(sent)) <= 10


async def _none_waiting() -> bool:
    waiting = await statuses(kind=Kind.ORDER_DELIVERED)
    return bool(waiting) and all(s in {SmsStatus.SENT, SmsStatus.DELIVERED} for s in waiting)


async def test_a_batch_whose_worker_died_goes_out_once_its_lease_lapses(
    api: GraphQLClient,
) -> None:
    expected = await many(40, members_=40)
    async with in_transaction():
        abandoned = await claim(now=NOON, policy=FAST)  # claimed, then the worker died
    assert len(abandoned) == 40
    async with SmscFake.running(password="secret") as smsc:
        async with delivering(smsc):
            await asyncio.sleep(0.5)
            assert smsc.received == [], "the lease still holds the batch"
        async with delivering(smsc, starting=NOON + FAST.lease + timedelta(seconds=1)):
            await smsc.wait_for(lambda: len(smsc.received) >= 40, timeout=20)
    assert sorted(numbers_sent(smsc)) == expected


async def test_a_refused_message_fails_for_good_and_an_undeliverable_one_says_so(
    api: GraphQLClient,
) -> None:
    await many(2, members_=2)
    async with SmscFake.running(password="secret") as smsc:
        smsc.rejections["+8613800130000"] = SmppCommandStatus.ESME_RINVDSTADR
        smsc.outcomes["+8613800130001"] = "UNDELIV"
        async with delivering(smsc):
            await eventually(lambda: _settled(statuses(kind=Kind.ORDER_DELIVERED)), seconds=15)
    rows = await Notification.filter(kind=Kind.ORDER_DELIVERED).order_by("id")
    assert [(r.sms_status, r.sms_error) for r in rows] == [
        (SmsStatus.FAILED, "ESME_RINVDSTADR"),
        (SmsStatus.UNDELIVERABLE, ""),
    ]


async def _settled(found: Awaitable[list[SmsStatus]]) -> bool:
    got = await found
    return bool(got) and all(s in {SmsStatus.FAILED, SmsStatus.UNDELIVERABLE} for s in got)
