"""Resolutions act on the domain once per click: refunds into the lots, goodwill within the
cap, replacements that never oversell nor overbook, returns refunded once whatever the scans."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fulfilment.models import ShipDay
from fulfilment.planning import Planner
from models.aftersales import goodwill, resolutions, returns
from models.aftersales.models import Resolution, ResolutionStatus, TicketCategory
from models.aftersales.resolutions import LineChoice
from models.catalog.models import Stock, StockMovement
from models.errors import (
    ApprovalRequired,
    CapacityExhausted,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    OutOfStock,
)
from models.notifications.models import Notification, NotificationKind
from models.orders.models import Order, OrderStatus
from models.parcels import Scan
from models.points.audit import audit
from models.points.models import EntryKind, PointsAccount, PointsEntry
from tests.support.aftersales import AGENT, POLICY, SUPERVISOR, delivered, opened
from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points

NOW = datetime.now(UTC)


async def balance(external_id: str) -> int:
    return int((await PointsAccount.get(member__external_id=external_id)).balance)


async def mug_ticket(api: GraphQLClient, member: str, tracking: str, *, units: int = 1):  # type: ignore[no-untyped-def]
    await member_with_points(member, 50_000)
    order = await delivered(member, f"k-{tracking}", "HM-MUG", tracking, units=units)
    ticket = await opened(member, at=NOW, order_number=order.number)
    return order, ticket


async def test_refunds_go_back_into_the_lots_whole_or_by_line_and_each_click_acts_once(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    _order, ticket = await mug_ticket(api, "RS1", "SFRS0001", units=2)
    assert await balance("RS1") == 50_000 - 15_600

    one = await resolutions.refund_points(
        actor=AGENT, number=ticket.number, key="r1", lines=[LineChoice("HM-MUG", 1)], now=NOW
    )
    again = await resolutions.refund_points(
        actor=AGENT, number=ticket.number, key="r1", lines=[LineChoice("HM-MUG", 1)], now=NOW
    )
    assert again.replayed
    assert again.resolution.id == one.resolution.id
    with pytest.raises(IdempotencyConflict):
        await resolutions.refund_points(
            actor=AGENT, number=ticket.number, key="r1", lines=None, now=NOW
        )
    rest = await resolutions.refund_points(
        actor=AGENT, number=ticket.number, key="r2", lines=None, now=NOW
    )
    with pytest.raises(InvalidInput):
        await resolutions.refund_points(
            actor=AGENT, number=ticket.number, key="r3", lines=None, now=NOW
        )

    assert (one.resolution.points, rest.resolution.points) == (7_800, 7_800)
    refunds = await PointsEntry.filter(kind=EntryKind.REFUND).values_list("delta", "external_ref")
    assert sorted(refunds) == sorted(
        [(7_800, f"resolution:{one.resolution.id}"), (7_800, f"resolution:{rest.resolution.id}")]
    )
    assert await balance("RS1") == 50_000
    told = await Notification.filter(kind=NotificationKind.TICKET_REFUNDED).count()
    assert told == 2
    assert await audit() == []


async def test_a_resolution_clicked_twice_at_once_acts_once(api: GraphQLClient) -> None:
    await small_mall(api)
    _, ticket = await mug_ticket(api, "RS2", "SFRS0002")

    clicks = await asyncio.gather(
        *(
            resolutions.refund_points(
                actor=AGENT, number=ticket.number, key="same", lines=None, now=NOW
            )
            for _ in range(4)
        )
    )

    assert len({c.resolution.id for c in clicks}) == 1
    assert sum(1 for c in clicks if not c.replayed) == 1
    assert await PointsEntry.filter(kind=EntryKind.REFUND).count() == 1
    assert await audit() == []


async def test_goodwill_within_the_cap_is_credited_and_above_it_a_supervisor_approves(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    _, ticket = await mug_ticket(api, "RS3", "SFRS0003")
    before = await balance("RS3")
    await goodwill.set_goodwill_cap(actor=SUPERVISOR, agent=AGENT.subject, daily_points=300)

    small = await goodwill.credit_goodwill(
        actor=AGENT,
        number=ticket.number,
        key="g1",
        amount=200,
        reason="抱歉",
        request_approval=False,
        now=NOW,
        policy=POLICY,
    )
    with pytest.raises(ApprovalRequired):
        await goodwill.credit_goodwill(
            actor=AGENT,
            number=ticket.number,
            key="g2",
            amount=200,
            reason="抱歉",
            request_approval=False,
            now=NOW,
            policy=POLICY,
        )
    assert await Resolution.filter(idempotency_key="g2").count() == 0, "refused: nothing recorded"
    asked = await goodwill.credit_goodwill(
        actor=AGENT,
        number=ticket.number,
        key="g3",
        amount=200,
        reason="抱歉",
        request_approval=True,
        now=NOW,
        policy=POLICY,
    )
    assert asked.resolution.status is ResolutionStatus.AWAITING_APPROVAL
    assert await balance("RS3") == before + 200
    approvals = await asyncio.gather(
        *(
            goodwill.approve_goodwill(actor=SUPERVISOR, resolution_id=asked.resolution.id, now=NOW)
            for _ in range(2)
        )
    )

    assert small.resolution.status is ResolutionStatus.DONE
    assert {a.resolution.status for a in approvals} == {ResolutionStatus.DONE}
    assert await balance("RS3") == before + 400
    credits = await PointsEntry.filter(kind=EntryKind.COMPENSATION).count()
    assert credits == 2
    # The cap is the agent's day: tomorrow there is room again.
    tomorrow = await goodwill.credit_goodwill(
        actor=AGENT,
        number=ticket.number,
        key="g4",
        amount=300,
        reason="抱歉",
        request_approval=False,
        now=NOW + timedelta(days=1),
        policy=POLICY,
    )
    assert tomorrow.resolution.status is ResolutionStatus.DONE
    assert await audit() == []


async def test_a_replacement_is_a_free_order_under_the_promise_or_refused_as_a_redemption(
    api: GraphQLClient,
) -> None:
    await small_mall(api)  # 10 mugs in SH01
    order, ticket = await mug_ticket(api, "RS4", "SFRS0004")
    sent = await resolutions.send_replacement(
        actor=AGENT, number=ticket.number, key="x1", lines=None, now=NOW, planner=Planner()
    )
    replacement = await Order.get(id=sent.resolution.replacement_id)
    assert (replacement.status, int(replacement.points_total)) == (OrderStatus.CONFIRMED, 0)
    assert replacement.promised_ship_date is not None
    assert replacement.ship_by == NOW + timedelta(days=7)
    told = await Notification.get(kind=NotificationKind.TICKET_REPLACEMENT)
    assert (told.order_id, told.data["number"]) == (replacement.id, replacement.number)
    assert await balance("RS4") == 50_000 - 7_800, "no points move"

    await Stock.filter(gift__sku="HM-MUG").update(on_hand=0, reserved=0)
    other = await opened("RS4", "又坏了", at=NOW, order_number=order.number)
    with pytest.raises(OutOfStock):
        await resolutions.send_replacement(
            actor=AGENT, number=other.number, key="x2", lines=None, now=NOW, planner=Planner()
        )
    assert await Resolution.filter(idempotency_key="x2").count() == 0
    assert await Order.filter(points_total=0).count() == 1


async def test_replacements_racing_for_the_last_units_never_oversell_nor_overbook(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    tickets = [(await mug_ticket(api, f"RR{i}", f"SFRR000{i}"))[1] for i in range(5)]
    mugs = await Stock.get(gift__sku="HM-MUG", warehouse__code="SH01")
    await Stock.filter(id=mugs.id).update(on_hand=mugs.reserved + 2)  # two units left

    outcomes = await asyncio.gather(
        *(
            resolutions.send_replacement(
                actor=AGENT, number=t.number, key="x", lines=None, now=NOW, planner=Planner()
            )
            for t in tickets
        ),
        return_exceptions=True,
    )

    placed = [o for o in outcomes if isinstance(o, resolutions.Resolved)]
    refused = [o for o in outcomes if isinstance(o, OutOfStock | CapacityExhausted)]
    assert (len(placed), len(refused)) == (2, 3), outcomes
    after = await Stock.get(id=mugs.id)
    assert after.reserved == after.on_hand
    days = await ShipDay.all()
    assert all(d.booked <= 100 for d in days)


async def test_a_replacement_past_every_ship_slot_is_refused_with_capacity_exhausted(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    _, ticket = await mug_ticket(api, "RS5", "SFRS0005")
    from models.catalog.models import Warehouse

    await Warehouse.filter(code="SH01").update(daily_capacity=0)
    with pytest.raises(CapacityExhausted):
        await resolutions.send_replacement(
            actor=AGENT, number=ticket.number, key="x", lines=None, now=NOW, planner=Planner()
        )
    assert await Resolution.all().count() == 0


def scan(status: str, hours_ago: float, tracking: str = "YT-RETURN-1") -> Scan:
    return Scan("YTO", tracking, status, "上海仓", "", NOW - timedelta(hours=hours_ago))


@pytest.mark.parametrize(
    "order_of_scans",
    [
        ["IN_TRANSIT", "DELIVERED"],
        ["DELIVERED", "IN_TRANSIT"],
        ["DELIVERED", "DELIVERED", "IN_TRANSIT", "DELIVERED"],
    ],
)
async def test_a_return_restocks_and_refunds_once_whatever_the_order_of_the_scans(
    api: GraphQLClient, order_of_scans: list[str]
) -> None:
    await small_mall(api)
    order, ticket = await mug_ticket(api, "RS6", "SFRS0006")
    on_hand = (await Stock.get(gift__sku="HM-MUG", warehouse__code="SH01")).on_hand
    started = await returns.start_return(
        actor=AGENT,
        number=ticket.number,
        key="ret",
        carrier="yto",
        tracking_number="yt-return-1",
        now=NOW,
    )
    assert started.resolution.status is ResolutionStatus.AWAITING_RETURN
    with pytest.raises(InvalidTransition):
        await returns.start_return(
            actor=AGENT,
            number=ticket.number,
            key="ret2",
            carrier="YTO",
            tracking_number="YT-RETURN-2",
            now=NOW,
        )

    hours = {"IN_TRANSIT": 5.0, "DELIVERED": 1.0}
    results = [
        await returns.record_scan(scan=scan(s, hours[s]), actor=None, now=NOW)
        for s in order_of_scans
    ]

    assert sum(1 for r in results if r is not None and r.received) == 1
    resolution = await Resolution.get(id=started.resolution.id)
    assert (resolution.status, resolution.points) == (ResolutionStatus.RECEIVED, 7_800)
    assert (await Stock.get(gift__sku="HM-MUG", warehouse__code="SH01")).on_hand == on_hand + 1
    assert await StockMovement.filter(reason=f"returned order {order.number}").count() == 1
    assert await PointsEntry.filter(kind=EntryKind.REFUND).count() == 1
    assert await balance("RS6") == 50_000
    parcel = results[-1]
    assert parcel is not None
    assert parcel.parcel.status == "DELIVERED"
    assert await audit() == []


async def test_a_return_needs_a_sent_order_and_a_tracking_number_of_its_own(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("RS7", 50_000)
    from tests.support.fulfilment import place

    waiting = await place("RS7", "k", ("HM-MUG", 1))
    ticket = await opened(
        "RS7", at=NOW, order_number=waiting.number, category=TicketCategory.PARCEL_NOT_RECEIVED
    )
    with pytest.raises(InvalidTransition):
        await returns.start_return(
            actor=AGENT,
            number=ticket.number,
            key="r",
            carrier="SF",
            tracking_number="SF0000X1",
            now=NOW,
        )
    _, sent = await mug_ticket(api, "RS8", "SFRS0008")
    from models.errors import DuplicateTrackingNumber

    with pytest.raises(DuplicateTrackingNumber):
        await returns.start_return(
            actor=AGENT,
            number=sent.number,
            key="r",
            carrier="SF",
            tracking_number="SFRS0008",
            now=NOW,
        )
    assert await Resolution.all().count() == 0
