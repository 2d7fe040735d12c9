"""Texts to the service number: a member's text the router kept becomes a ticket, or joins
their open one, once whatever the workers; keywords and strangers open nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.aftersales import replies
from models.aftersales.models import (
    InboundIntake,
    Ticket,
    TicketChannel,
    TicketState,
    TimelineEntry,
    TimelineKind,
)
from models.notifications.models import Notification, NotificationKind
from tests.support.aftersales import AGENT, POLICY, member_with_mobile, pass_at, texted

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
PHONE = "+8613800138011"


async def messages(ticket: Ticket) -> list[str]:
    rows = TimelineEntry.filter(ticket_id=ticket.id, kind=TimelineKind.MEMBER_MESSAGE).order_by(
        "id"
    )
    return [e.body for e in await rows]


async def test_a_text_opens_a_ticket_and_the_next_one_joins_it(db: str) -> None:
    await member_with_mobile("TX1", PHONE)
    assert await texted(PHONE, "快递三天没动了，订单呢？", at=AT) == "KEPT"
    assert await texted(PHONE, "JF", at=AT) == "KEYWORD"

    report = await pass_at(AT + timedelta(seconds=30))

    assert report.counts()["texts_taken"] == 1
    [ticket] = await Ticket.all()
    assert (ticket.channel, ticket.state, ticket.opened_at) == (
        TicketChannel.SMS,
        TicketState.NEW,
        AT,
    )
    assert ticket.first_reply_due_at == AT + timedelta(hours=48), (
        "the clock starts when it was sent"
    )
    acknowledged = await Notification.filter(kind=NotificationKind.TICKET_RECEIVED).values_list(
        "data", flat=True
    )
    assert acknowledged == [{"ticket": ticket.number, "reply_hours": 48}]

    await texted(PHONE, "还有，盒子也坏了", at=AT + timedelta(minutes=5))
    await pass_at(AT + timedelta(minutes=6))
    assert await Ticket.all().count() == 1
    assert await messages(ticket) == ["快递三天没动了，订单呢？", "还有，盒子也坏了"]
    assert (await pass_at(AT + timedelta(minutes=7))).counts()["texts_taken"] == 0


async def test_a_text_after_the_ticket_closed_opens_a_new_one(db: str) -> None:
    await member_with_mobile("TX2", PHONE)
    await texted(PHONE, "质量问题", at=AT)
    await pass_at(AT)
    [first] = await Ticket.all()
    await replies.resolve(
        actor=AGENT,
        number=first.number,
        summary="已退款",
        now=AT + timedelta(hours=1),
        policy=POLICY,
    )
    await pass_at(AT + timedelta(days=8))  # a week after resolution it closes
    assert (await Ticket.get(id=first.id)).state is TicketState.CLOSED

    await texted(PHONE, "又坏了", at=AT + timedelta(days=9))
    await pass_at(AT + timedelta(days=9))

    assert await Ticket.all().count() == 2


async def test_strangers_and_empty_texts_open_nothing(db: str) -> None:
    await member_with_mobile("TX3", PHONE)
    assert await texted("+8613999999999", "where is my parcel", at=AT) == "UNKNOWN_NUMBER"
    assert await texted(PHONE, "   ", at=AT) == "EMPTY"
    await pass_at(AT)
    assert await Ticket.all().count() == 0


@pytest.mark.parametrize(
    "body", ["x" * 10_000, "nul\x00byte", "\ud800bad", "esc\x1b[31m red", "{ticket} {0.__class__}"]
)
async def test_hostile_texts_become_plain_tickets(db: str, body: str) -> None:
    await member_with_mobile("TX4", PHONE)
    await texted(PHONE, body, at=AT)
    await pass_at(AT)
    [ticket] = await Ticket.all()
    [text] = await messages(ticket)
    assert 0 < len(text) <= 2000
    assert "\x00" not in text
    assert "\x1b" not in text


async def test_several_workers_take_each_text_in_once(db: str) -> None:
    for i in range(6):
        await member_with_mobile(f"TXR{i}", f"+86138000390{i:02d}")
        await texted(f"+86138000390{i:02d}", f"问题 {i}", at=AT)

    await asyncio.gather(*(pass_at(AT, batch=2) for _ in range(3)))

    assert await Ticket.all().count() == 6
    assert await InboundIntake.all().count() == 6
