"""Live after-sales in-process: a member follows their ticket, agents hear every alert.

On PostgreSQL the notices travel through LISTEN/NOTIFY, so the tests run the listener."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from models.actors import Actor, Role
from models.aftersales import replies, surveys
from models.aftersales.models import Survey
from models.events import SERVICE_ALERTS, TICKETS
from tests.integration.test_live_updates import following, next_data, notices
from tests.support.aftersales import AGENT, POLICY, opened, pass_at
from tests.support.fulfilment import subscribe
from tests.support.graphql import operation
from tests.support.members import member_with_points

__all__ = ["notices"]  # the fixture, shared with the order subscriptions' tests
MEMBER = Actor(Role.MEMBER, "LT1")


async def test_the_member_follows_their_ticket_and_another_member_cannot(notices: None) -> None:
    await member_with_points("LT1", 1_000)
    now = datetime.now(UTC)
    ticket = await opened("LT1", at=now)
    async with following("TicketUpdated", {"number": ticket.number}, MEMBER, TICKETS) as updates:
        await replies.reply(
            actor=AGENT, number=ticket.number, text="在处理", now=now, policy=POLICY
        )
        seen = (await next_data(updates))["ticketUpdated"]
        assert (seen["number"], seen["state"]) == (ticket.number, "OPEN")
        assert seen["firstRepliedAt"] is not None

    stranger = Actor(Role.MEMBER, "LT-OTHER")
    results = [
        r async for r in subscribe(operation("TicketUpdated"), {"number": ticket.number}, stranger)
    ]
    assert [e.extensions["code"] for e in results[0].errors] == ["NOT_FOUND"]


async def test_agents_hear_each_alert_once_as_the_sweeper_raises_it(notices: None) -> None:
    await member_with_points("LT2", 1_000)
    now = datetime.now(UTC)
    ticket = await opened("LT2", at=now)
    async with following("ServiceAlerts", {}, AGENT, SERVICE_ALERTS) as alerts:
        await pass_at(now + timedelta(hours=41))
        first = (await next_data(alerts))["serviceAlerts"]
        assert (first["kind"], first["ticket"]["number"]) == ("FIRST_REPLY_AT_RISK", ticket.number)
        await pass_at(now + timedelta(hours=42))  # nothing new: nothing sent
        await replies.resolve(
            actor=AGENT, number=ticket.number, summary="done", now=now, policy=POLICY
        )
        survey = await Survey.get(ticket_id=ticket.id)
        await surveys.record(survey, 1, by="APP", now=now)
        low = (await next_data(alerts))["serviceAlerts"]
        assert low["kind"] == "LOW_RATING"
        assert alerts.empty()
        await asyncio.sleep(0.1)
        assert alerts.empty()
