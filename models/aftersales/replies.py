"""The agents' side of a ticket: replies, notes, calls, claiming, waiting, resolving.

Each is one transaction on the locked ticket. What counts as a reply is
`rules.counts_as_reply`: a public message to the member (it goes out through the outbox, to
the app's inbox and by SMS) or a logged call with its outcome. An internal note is for the
agents only and moves no clock. Waiting on the member stops the clock; the member's next
message (or an agent's `resume`) starts it again, every running promise moved on by the
time waited. Resolving keeps the resolution promise and asks the member how satisfied they
were (`surveys`).
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from models import validation
from models.actors import Actor
from models.aftersales import promise, rules, surveys, timeline
from models.aftersales.models import Ticket, TicketState, TimelineEntry, TimelineKind
from models.aftersales.rules import TicketPolicy
from models.aftersales.tickets import for_agent, move
from models.errors import InvalidTransition
from models.events import TICKETS, announce
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind


async def reply(
    *, actor: Actor, number: str, text: str, now: datetime, policy: TicketPolicy
) -> Ticket:
    """A public reply to the member; raises InvalidInput, NotFound, TicketClosed."""
    body = rules.clean_text(text)
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        entry = await timeline.add(
            ticket_id=ticket.id, kind=TimelineKind.PUBLIC_REPLY, actor=actor, now=now, body=body
        )
        await outbox.notify(
            kind=Kind.TICKET_REPLY,
            member_id=ticket.member_id,
            dedupe_key=f"ticket:{ticket.number}:reply:{entry.id}",
            data={"ticket": ticket.number, "text": body},
            now=now,
            order_id=ticket.order_id,
        )
        await _answered(ticket, entry, actor=actor, now=now, policy=policy)
        return ticket


async def log_call(
    *, actor: Actor, number: str, outcome: str, notes: str, now: datetime, policy: TicketPolicy
) -> Ticket:
    """A call with the member, logged with its outcome (a reply); raises InvalidInput,
    NotFound, TicketClosed."""
    result = rules.clean_text(outcome, field="outcome", max_length=200)
    body = rules.clean_text(notes, field="notes") if notes.strip() else ""
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        entry = await timeline.add(
            ticket_id=ticket.id,
            kind=TimelineKind.CALL,
            actor=actor,
            now=now,
            body=body,
            channel="PHONE",
            call_outcome=result,
        )
        await _answered(ticket, entry, actor=actor, now=now, policy=policy)
        return ticket


async def note(*, actor: Actor, number: str, text: str, now: datetime) -> Ticket:
    """An internal note, for agents only (not a reply); raises InvalidInput, NotFound,
    TicketClosed."""
    body = rules.clean_text(text)
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        await timeline.add(
            ticket_id=ticket.id, kind=TimelineKind.INTERNAL_NOTE, actor=actor, now=now, body=body
        )
        await ticket.save(update_fields=["updated_at"])
        await announce(TICKETS, ticket.number)
        return ticket


async def _answered(
    ticket: Ticket, entry: TimelineEntry, *, actor: Actor, now: datetime, policy: TicketPolicy
) -> None:
    """What an entry that may be a reply does to the clock, the state and the assignee."""
    also: tuple[str, ...] = ()
    if rules.counts_as_reply(
        entry.kind, author_role=entry.author_role, call_outcome=entry.call_outcome
    ):
        clock = rules.replied(promise.clock_of(ticket), now)
    else:
        clock = promise.clock_of(ticket)
    if not ticket.assignee:
        ticket.assignee, also = actor.subject, ("assignee",)
    await promise.set_clock(ticket, clock, policy, also=also)
    if ticket.state is TicketState.NEW:
        await move(ticket, TicketState.OPEN, actor=actor, now=now)
    else:
        await announce(TICKETS, ticket.number)


async def claim(*, actor: Actor, number: str, now: datetime) -> Ticket:
    """Take an unassigned ticket (or keep one's own); raises NotFound, TicketClosed,
    InvalidTransition (assigned to someone else: a supervisor reassigns it)."""
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        if ticket.assignee and ticket.assignee != actor.subject:
            raise InvalidTransition(current="ASSIGNED", wanted="CLAIMED", field="number")
        await _assign(ticket, actor.subject, actor=actor, now=now)
        return ticket


async def assign(*, actor: Actor, number: str, agent: str, now: datetime) -> Ticket:
    """Give the ticket to an agent ('' leaves it unassigned); raises InvalidInput, NotFound,
    TicketClosed."""
    wanted = validation.identifier(agent, field="agent") if agent.strip() else ""
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        await _assign(ticket, wanted, actor=actor, now=now)
        return ticket


async def _assign(ticket: Ticket, agent: str, *, actor: Actor, now: datetime) -> None:
    if ticket.assignee == agent:
        return
    before, ticket.assignee = ticket.assignee, agent
    await ticket.save(update_fields=["assignee", "updated_at"])
    await timeline.add(
        ticket_id=ticket.id,
        kind=TimelineKind.ASSIGNMENT,
        actor=actor,
        now=now,
        data={"from": before, "to": agent},
    )
    if ticket.state is TicketState.NEW:
        await move(ticket, TicketState.OPEN, actor=actor, now=now)
    else:
        await announce(TICKETS, ticket.number)


async def wait_on_member(
    *, actor: Actor, number: str, now: datetime, policy: TicketPolicy
) -> Ticket:
    """The ticket waits on the member: its clock stops. Raises NotFound, TicketClosed,
    InvalidTransition."""
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        rules.check_move(ticket.state, TicketState.WAITING_ON_MEMBER, number=ticket.number)
        await promise.set_clock(ticket, rules.paused(promise.clock_of(ticket), now), policy)
        await move(ticket, TicketState.WAITING_ON_MEMBER, actor=actor, now=now)
        return ticket


async def resume(*, actor: Actor, number: str, now: datetime, policy: TicketPolicy) -> Ticket:
    """Stop waiting on the member: the clock runs again, moved on by the time waited.
    Raises NotFound, TicketClosed, InvalidTransition."""
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        if ticket.state is not TicketState.WAITING_ON_MEMBER:
            raise InvalidTransition(current=ticket.state.value, wanted=TicketState.OPEN.value)
        await promise.set_clock(ticket, rules.resumed(promise.clock_of(ticket), now), policy)
        await move(ticket, TicketState.OPEN, actor=actor, now=now)
        return ticket


async def resolve(
    *, actor: Actor, number: str, summary: str, now: datetime, policy: TicketPolicy
) -> Ticket:
    """Resolve the ticket, tell the member what was done and ask how satisfied they were.
    Raises InvalidInput, NotFound, TicketClosed, InvalidTransition."""
    said = rules.clean_text(summary, field="summary", max_length=500)
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        rules.check_move(ticket.state, TicketState.RESOLVED, number=ticket.number)
        await promise.set_clock(ticket, rules.resolved(promise.clock_of(ticket)), policy)
        ticket.resolved_at = now
        await move(ticket, TicketState.RESOLVED, actor=actor, now=now, also=("resolved_at",))
        await timeline.add(
            ticket_id=ticket.id,
            kind=TimelineKind.RESOLUTION,
            actor=actor,
            now=now,
            body=said,
            data={"resolved": True},
        )
        cycle = ticket.resolution_cycle
        await outbox.notify(
            kind=Kind.TICKET_RESOLVED,
            member_id=ticket.member_id,
            dedupe_key=f"ticket:{ticket.number}:resolved:{cycle}",
            data={"ticket": ticket.number, "summary": said},
            now=now,
            order_id=ticket.order_id,
        )
        await surveys.ask_about_ticket(ticket, now=now)
        return ticket
