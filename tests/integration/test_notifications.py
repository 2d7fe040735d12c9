"""The outbox on both databases: every change a member should hear of writes its message in
the change's own transaction; the delivery loop sends, retries and settles them; texts to the
service are answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fulfilment.planning import Planner
from fulfilment.shipments import ship
from models.actors import Actor, Role
from models.errors import OutOfStock
from models.members import service as members
from models.members.models import Member, Tier
from models.notifications import delivery, router
from models.notifications.delivery import DeliveryPolicy
from models.notifications.models import InboundHandling, InboundSms, Notification, SmsStatus
from models.notifications.models import NotificationKind as Kind
from models.notifications.ports import InboundSms as Text
from models.notifications.ports import LogSmsCentre
from models.notifications.rules import QuietHours
from models.orders import lifecycle, redemption
from models.orders.models import OrderStatus
from models.orders.rules import Address, LineRequest
from models.points import service as points
from tests.support.catalog import small_mall, stock
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

ADDRESS = Address("王芳", "13800138000", "上海市", "上海市", "黄浦区", "南京东路 1 号", "", "")
ADMIN = Actor(Role.ADMIN, "admin")
# Tomorrow's date: the clock of the worker must be after the messages' wall-clock writes.
DAY = (datetime.now(UTC) + timedelta(days=1)).date()
NOON = datetime(DAY.year, DAY.month, DAY.day, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
NIGHT = datetime(DAY.year, DAY.month, DAY.day, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


async def member(external_id: str, mobile: str = "13800138000", **contact: object) -> Member:
    return await members.upsert_member(
        external_id=external_id,
        display_name="",
        tier=Tier.STANDARD,
        contact=members.Contact(mobile=mobile, **contact),  # type: ignore[arg-type]
    )


async def place(external_id: str, key: str, sku: str = "EL-PB10K") -> redemption.RedemptionResult:
    request = redemption.RedeemRequest(key, [LineRequest(sku, 1)], ADDRESS)
    return await redemption.redeem(
        member_external_id=external_id, request=request, now=datetime.now(UTC), planner=Planner()
    )


async def messages(member_id: int) -> list[Notification]:
    return await Notification.filter(member_id=member_id).order_by("id")


async def test_a_confirmed_order_writes_its_message_with_the_order(api: GraphQLClient) -> None:
    await small_mall(api)
    owner = await member("N-1")
    await member_with_points("N-1", 20_000)
    placed = await place("N-1", "k1")
    [message] = [m for m in await messages(owner.id) if m.kind is Kind.ORDER_CONFIRMED]
    assert message.order_id == placed.order.id
    assert message.data == {"number": placed.order.number, "points": 6_900}
    assert (message.sms_to, message.sms_status) == ("+8613800138000", SmsStatus.PENDING)
    await place("N-1", "k1")  # a replay places nothing and tells nothing
    confirmed = [m for m in await messages(owner.id) if m.kind is Kind.ORDER_CONFIRMED]
    assert len(confirmed) == 1


async def test_an_order_refused_tells_no_one(api: GraphQLClient) -> None:
    await small_mall(api)
    owner = await member("N-2")
    await member_with_points("N-2", 100_000)
    await stock(api, "EL-BUDS", "GZ01", -3)
    with pytest.raises(OutOfStock):
        await place("N-2", "k1", "EL-BUDS")
    assert await messages(owner.id) == []


async def test_shipping_and_cancelling_tell_the_member_what_happened(api: GraphQLClient) -> None:
    await small_mall(api)
    owner = await member("N-3")
    await member_with_points("N-3", 20_000)
    shipped = (await place("N-3", "k1")).order
    cancelled = (await place("N-3", "k2")).order
    now = datetime.now(UTC)
    for step in (OrderStatus.PICKING, OrderStatus.PACKED):
        await lifecycle.advance(number=shipped.number, to=step, actor=ADMIN, now=now)
    await ship(
        number=shipped.number,
        carrier="SF",
        tracking_number="SF1234567890",
        actor=ADMIN,
        now=now,
        planner=Planner(),
    )
    await lifecycle.cancel(number=cancelled.number, actor=ADMIN, now=now, planner=Planner())
    told = {m.kind: m.data for m in await messages(owner.id)}
    assert told[Kind.ORDER_SHIPPED] == {
        "number": shipped.number,
        "points": 6_900,
        "carrier": "SF",
        "tracking": "SF1234567890",
    }
    assert told[Kind.ORDER_CANCELLED] == {"number": cancelled.number, "points": 6_900, "cash": ""}


async def test_a_member_without_a_mobile_or_who_turned_a_kind_off_gets_it_in_the_app_only(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    silent = await member("N-4", mobile="")
    quiet = await member("N-5", opt_outs=["ALL"])
    for external_id in ("N-4", "N-5"):
        await points.award(
            member_external_id=external_id,
            amount=20_000,
            reason="bill",
            external_ref=f"bill-{external_id}",
            now=NOON,
            tell_from=1,
        )
        await place(external_id, "k1")
    for owner in (silent, quiet):
        statuses = {m.kind: m.sms_status for m in await messages(owner.id)}
        assert statuses[Kind.POINTS_CREDITED] is SmsStatus.SKIPPED
    assert {m.kind: m.sms_status for m in await messages(silent.id)}[
        Kind.ORDER_CONFIRMED
    ] is SmsStatus.SKIPPED
    # An order's confirmation is essential: it goes by SMS even to a member who turned all off.
    assert {m.kind: m.sms_status for m in await messages(quiet.id)}[
        Kind.ORDER_CONFIRMED
    ] is SmsStatus.PENDING


async def test_the_loop_sends_what_is_due_holds_the_rest_until_morning_and_settles_receipts(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    owner = await member("N-6")
    await member_with_points("N-6", 20_000)
    await place("N-6", "k1")
    policy = DeliveryPolicy(quiet=QuietHours())
    centre = LogSmsCentre()
    night = await delivery.deliver_once(centre, now=NIGHT, policy=policy)
    assert night.accepted == 0, "neither message is urgent: both wait for the morning"
    await centre.start(receipts=settle_now, inbound=ignore)
    day = await delivery.deliver_once(centre, now=NOON, policy=policy)
    assert day.accepted == 1
    statuses = {m.kind: m.sms_status for m in await messages(owner.id)}
    assert set(statuses.values()) == {SmsStatus.DELIVERED}
    assert (await delivery.deliver_once(centre, now=NOON, policy=policy)).accepted == 0


async def settle_now(receipt: object) -> None:
    await delivery.settle([receipt])  # type: ignore[list-item]


async def ignore(_: object) -> None:
    return None


async def test_texts_to_the_service_are_answered_once_capped_and_kept(api: GraphQLClient) -> None:
    await small_mall(api)
    owner = await member("N-7", language="en")
    await member_with_points("N-7", 20_000)
    policy = router.RouterPolicy(replies_per_hour=3)

    async def text(body: str, sender: str = "+8613800138000") -> router.Routed:
        return await router.route(Text(sender, body, NOON), now=NOON, policy=policy)

    points = await text("jf")
    assert points.handled_as is InboundHandling.KEYWORD
    assert points.reply.startswith("[PointsMall] Available points: 20000 (balance 20000).")
    assert (await text("my parcel is late")).handled_as is InboundHandling.KEPT
    stopped = await text("TD")
    assert "no longer get optional messages" in stopped.reply
    assert (await Member.get(id=owner.id)).opt_outs == ",ALL,"
    assert (await text("?")).reply.startswith("[PointsMall] Reply JF")
    assert (await text("JF")).handled_as is InboundHandling.CAPPED, "three answers an hour"
    stranger = await text("JF", sender="+8613900000000")
    assert stranger.handled_as is InboundHandling.UNKNOWN_NUMBER
    assert stranger.reply == "【积分商城】本号码尚未加入积分计划，请在营业厅或手机营业厅App注册。"
    assert (await text("JF", sender="+8613900000000")).handled_as is InboundHandling.CAPPED
    kept = await InboundSms.filter(member_id=owner.id).order_by("id").values_list("text", flat=True)
    assert kept == ["jf", "my parcel is late", "TD", "?", "JF"]
    replies = await Notification.filter(kind=Kind.SMS_REPLY).count()
    assert replies == 4


@pytest.mark.parametrize(
    "body",
    [
        "",
        "x" * 10_000,
        "\ud800\udc00\ud800",
        "nul\x00byte",
        "😀🎁" * 300,
        "{available} {0.__class__}",
        "'; DROP TABLE member; --",
    ],
)
async def test_hostile_texts_get_a_polite_answer_or_none_and_change_nothing(
    api: GraphQLClient, body: str
) -> None:
    await small_mall(api)
    owner = await member("N-8")
    await member_with_points("N-8", 20_000)
    before = await Member.get(id=owner.id)
    routed = await router.route(
        Text("+8613800138000", body, NOON), now=NOON, policy=router.RouterPolicy()
    )
    assert routed.handled_as in {InboundHandling.EMPTY, InboundHandling.KEPT}
    assert routed.reply == ""
    after = await Member.get(id=owner.id)
    assert (after.opt_outs, after.mobile, after.language) == (
        before.opt_outs,
        before.mobile,
        before.language,
    )
    assert await InboundSms.filter(member_id=owner.id).count() == 1


async def test_a_billing_credit_above_the_threshold_is_told_once(api: GraphQLClient) -> None:
    owner = await member("N-9")
    for _ in range(2):
        await points.award(
            member_external_id="N-9",
            amount=5_000,
            reason="monthly bill",
            external_ref="bill-2026-12-N-9",
            now=NOON,
            tell_from=1_000,
        )
    await points.award(
        member_external_id="N-9",
        amount=500,
        reason="small",
        external_ref="bill-small",
        now=NOON,
        tell_from=1_000,
    )
    told = [m for m in await messages(owner.id) if m.kind is Kind.POINTS_CREDITED]
    assert [m.data for m in told] == [{"points": 5_000, "reason": "monthly bill"}]
    assert told[0].created_at == told[0].sms_due_at == NOON
