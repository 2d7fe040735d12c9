"""Satisfaction: a survey after a resolution and after a delivery, answered by a digit texted
back or in the app, one rating per survey; bad ratings change nothing; a low one alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.aftersales import replies, surveys
from models.aftersales.models import ServiceAlertKind, Survey, Ticket, TicketAlert, TicketState
from models.errors import InvalidInput, NotFound
from models.notifications.models import Notification, NotificationKind
from tests.support.aftersales import (
    AGENT,
    POLICY,
    delivered,
    member,
    member_with_mobile,
    opened,
    pass_at,
    texted,
)
from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
PHONE = "+8613800138055"


async def resolved_ticket(external_id: str = "SV1") -> Ticket:
    await member_with_mobile(external_id, PHONE)
    ticket = await opened(external_id, at=AT)
    await replies.reply(actor=AGENT, number=ticket.number, text="处理好了", now=AT, policy=POLICY)
    await replies.resolve(
        actor=AGENT, number=ticket.number, summary="已补发", now=AT, policy=POLICY
    )
    return ticket


async def rating(ticket: Ticket) -> int | None:
    return (await Survey.get(ticket_id=ticket.id)).rating


async def test_a_digit_texted_back_rates_the_service_and_a_later_one_replaces_it(db: str) -> None:
    ticket = await resolved_ticket()
    [question] = await Notification.filter(kind=NotificationKind.QUESTION)
    assert question.data == {
        "survey": (await Survey.get(ticket_id=ticket.id)).id,
        "ticket": ticket.number,
    }

    assert await texted(PHONE, "5", at=AT + timedelta(minutes=1)) == "ANSWER"
    await pass_at(AT + timedelta(minutes=2))
    assert await rating(ticket) == 5
    assert await texted(PHONE, "３", at=AT + timedelta(hours=1)) == "KEPT"  # no open question
    await pass_at(AT + timedelta(hours=1))

    assert await rating(ticket) == 3
    assert await Survey.all().count() == 1
    assert (await Ticket.get(id=ticket.id)).state is TicketState.RESOLVED, (
        "a rating reopens nothing"
    )


@pytest.mark.parametrize("digit", ["0", "6", "9"])
async def test_a_digit_outside_one_to_five_rates_nothing_and_asks_again(
    db: str, digit: str
) -> None:
    ticket = await resolved_ticket()
    await texted(PHONE, digit, at=AT + timedelta(minutes=1))
    await pass_at(AT + timedelta(minutes=2))

    assert await rating(ticket) is None
    assert await Notification.filter(kind=NotificationKind.QUESTION).count() == 2
    assert await texted(PHONE, "4", at=AT + timedelta(minutes=3)) == "ANSWER"
    await pass_at(AT + timedelta(minutes=4))
    assert await rating(ticket) == 4


async def test_a_low_rating_asks_a_supervisor_to_look_once(db: str) -> None:
    ticket = await resolved_ticket()
    survey = await Survey.get(ticket_id=ticket.id)
    for value in (1, 2):
        await surveys.record(survey, value, by="APP", now=AT + timedelta(hours=1))

    assert (await Ticket.get(id=ticket.id)).attention
    alerts = await TicketAlert.filter(ticket_id=ticket.id).values_list("kind", flat=True)
    assert list(alerts) == [ServiceAlertKind.LOW_RATING]


@pytest.mark.parametrize("value", [0, 6, -5, 10])
async def test_ratings_out_of_range_are_refused_and_change_nothing(db: str, value: int) -> None:
    ticket = await resolved_ticket()
    with pytest.raises(InvalidInput):
        await surveys.rate(
            actor=member("SV1"),
            ticket_number=ticket.number,
            order_number=None,
            rating=value,
            now=AT,
            policy=POLICY,
        )
    assert await rating(ticket) is None


async def test_only_the_member_rates_and_only_within_the_week(db: str) -> None:
    ticket = await resolved_ticket()
    with pytest.raises(NotFound):
        await surveys.rate(
            actor=member("SV-OTHER"),
            ticket_number=ticket.number,
            order_number=None,
            rating=5,
            now=AT,
            policy=POLICY,
        )
    with pytest.raises(InvalidInput):
        await surveys.rate(
            actor=member("SV1"),
            ticket_number=ticket.number,
            order_number=None,
            rating=5,
            now=AT + timedelta(days=8),
            policy=POLICY,
        )
    with pytest.raises(InvalidInput):
        await surveys.rate(
            actor=member("SV1"),
            ticket_number=ticket.number,
            order_number="PM1",
            rating=5,
            now=AT,
            policy=POLICY,
        )
    assert await rating(ticket) is None


async def test_a_delivered_order_asks_once_and_the_app_answers(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("SV2", 20_000)
    order = await delivered("SV2", "k", "HM-MUG", "SFSV0002")
    [survey] = await Survey.filter(order_id=order.id)
    assert survey.ticket_id is None

    result = await api.op(
        "RateService",
        {"input": {"orderNumber": order.number, "rating": 5}},
        auth=member_token("SV2"),
    )
    assert result.data["rateService"]["survey"]["rating"] == 5
    words = await api.op(
        "RateService",
        {"input": {"orderNumber": order.number, "rating": "two"}},
        auth=member_token("SV2"),
    )
    assert words.error_codes == ["BAD_USER_INPUT"]
    assert (await Survey.get(id=survey.id)).rating == 5
