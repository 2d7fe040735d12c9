"""Opening tickets and the member's side of the conversation.

A member opens a ticket in the app, by SMS (a text the router kept becomes a ticket, or
joins the member's open one: `take_text`), or through an agent on the hotline. Each is one
transaction: the ticket, its first timeline entry, its deadlines and the acknowledgement in
the outbox (which is not a reply: the first-reply clock keeps running). A later message of
the member answers a wait (the clock runs again, moved on by the time waited), is owed an
answer within a day, and reopens a ticket resolved less than a week ago.

Lock order: the ticket row first, then what a change writes (its timeline, deadlines,
the outbox, a member's points account). Ticket rows are locked FOR NO KEY UPDATE, as orders
are: what a change does to a ticket never touches its key, so the rows that name it (its
timeline, alerts, surveys) can still be written by whoever needs to meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import validation
from models.actors import Actor, Role
from models.aftersales import promise, rules, timeline
from models.aftersales.models import (
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketState,
    TimelineKind,
)
from models.aftersales.reads import may_see
from models.aftersales.rules import TicketPolicy
from models.errors import NotFound, NotYourOrder, TicketClosed
from models.events import TICKETS, announce
from models.members.models import Member
from models.members.service import ensure_member, find_member
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.orders.models import Order

NUMBER_ATTEMPTS = 3


@dataclass(frozen=True)
class TicketRequest:
    """What a member (or an agent for a caller) says when opening a ticket."""

    category: TicketCategory
    text: str
    order_number: str | None = None
    photo_urls: Sequence[str] = ()
    idempotency_key: str | None = None


async def locked(*, number: str, actor: Actor) -> Ticket:
    """The ticket, row-locked, if the actor may see it; raises NotFound."""
    ticket = None
    if validation.fits(Ticket, "number", number):
        ticket = (
            await Ticket.filter(number=number.strip().upper())
            .select_for_update(no_key=True)
            .first()
        )
    if ticket is None or not await may_see(actor, ticket):
        raise NotFound(f"no ticket {number!r}", field="number")
    return ticket


async def for_agent(*, number: str, actor: Actor) -> Ticket:
    """The locked ticket for an agent or admin, not closed; raises NotFound, TicketClosed."""
    if not actor.handles_tickets:
        raise NotFound(f"no ticket {number!r}", field="number")
    ticket = await locked(number=number, actor=actor)
    if ticket.state is TicketState.CLOSED:
        raise TicketClosed(f"ticket {ticket.number} is closed", field="number")
    return ticket


async def open_ticket(
    *, actor: Actor, request: TicketRequest, now: datetime, policy: TicketPolicy
) -> Ticket:
    """A member's ticket from the app (a retry with the same key returns the first); raises
    InvalidInput, NotYourOrder."""
    text = rules.clean_text(request.text)
    photos = rules.clean_photos(request.photo_urls)
    key = None
    if request.idempotency_key is not None:
        key = validation.identifier(
            request.idempotency_key, field="idempotency_key", max_length=128
        )
    member = await ensure_member(external_id=actor.subject)
    if key is not None and (
        first := await Ticket.get_or_none(member_id=member.id, idempotency_key=key)
    ):
        return first
    order = await _own_order(member.id, request.order_number)
    opening = _Opening(member, order, request.category, TicketChannel.APP, text, photos, key)
    try:
        return await _open(opening, actor=actor, now=now, policy=policy)
    except IntegrityError:
        twin = await Ticket.get_or_none(member_id=member.id, idempotency_key=key) if key else None
        if twin is None:
            raise
        return twin


async def open_for_caller(
    *,
    actor: Actor,
    member_external_id: str,
    request: TicketRequest,
    call_outcome: str,
    now: datetime,
    policy: TicketPolicy,
) -> Ticket:
    """A ticket an agent opens for a caller on the hotline: the call, logged with its
    outcome, is the first reply. Raises InvalidInput, NotFound, NotYourOrder."""
    text = rules.clean_text(request.text)
    outcome = rules.clean_text(call_outcome, field="call_outcome", max_length=200)
    external_id = validation.identifier(member_external_id, field="member_external_id")
    member = await find_member(external_id=external_id)
    if member is None:
        raise NotFound(f"no member {external_id!r}", field="member_external_id")
    order = await _own_order(member.id, request.order_number)
    opening = _Opening(member, order, request.category, TicketChannel.HOTLINE, text, [], None)
    return await _open(opening, actor=actor, now=now, policy=policy, call_outcome=outcome)


async def take_text(
    *, member_id: int, text: str, received_at: datetime, now: datetime, policy: TicketPolicy
) -> Ticket:
    """A member's text kept by the SMS router: it joins their latest ticket still open (or
    resolved within the week, which it reopens), or becomes a new ticket."""
    body = rules.clean_text(_printable(text) or "(empty)", max_length=rules.MAX_TEXT)
    async with in_transaction():
        latest = (
            await Ticket.filter(member_id=member_id)
            .exclude(state=TicketState.CLOSED)
            .order_by("-id")
            .select_for_update(no_key=True)
            .first()
        )
        if latest is not None and (
            latest.state in rules.OPEN_STATES
            or rules.reopens(latest.state, latest.resolved_at, now=received_at, policy=policy)
        ):
            await _member_wrote(latest, body, [], TicketChannel.SMS, at=received_at, policy=policy)
            return latest
    member = await Member.get(id=member_id)
    opening = _Opening(member, None, TicketCategory.QUESTION, TicketChannel.SMS, body, [], None)
    return await _open(opening, actor=None, now=received_at, policy=policy)


def _printable(text: str) -> str:
    """A handset's text without control characters other than line breaks."""
    return "".join(c for c in text if c in "\n\t" or c.isprintable()).strip()


async def add_message(
    *,
    actor: Actor,
    number: str,
    text: str,
    photo_urls: Sequence[str],
    now: datetime,
    policy: TicketPolicy,
) -> Ticket:
    """A member's later message on their own ticket; raises InvalidInput, NotFound,
    TicketClosed."""
    body = rules.clean_text(text)
    photos = rules.clean_photos(photo_urls)
    async with in_transaction():
        ticket = await locked(number=number, actor=actor)
        if actor.role is not Role.MEMBER:
            raise NotFound(f"no ticket {number!r}", field="number")
        open_or_reopened = ticket.state in rules.OPEN_STATES or rules.reopens(
            ticket.state, ticket.resolved_at, now=now, policy=policy
        )
        if not open_or_reopened:
            raise TicketClosed(f"ticket {ticket.number} is closed; open a new one", field="number")
        await _member_wrote(ticket, body, photos, TicketChannel.APP, at=now, policy=policy)
        return ticket


async def confirm_resolved(*, actor: Actor, number: str, now: datetime) -> Ticket:
    """The member confirms a resolved ticket is done: it closes. Raises NotFound,
    TicketClosed, InvalidTransition."""
    async with in_transaction():
        ticket = await locked(number=number, actor=actor)
        if actor.role is not Role.MEMBER:
            raise NotFound(f"no ticket {number!r}", field="number")
        await close(ticket, actor=actor, now=now)
        return ticket


async def close(ticket: Ticket, *, actor: Actor | None, now: datetime) -> None:
    """Close a locked resolved ticket, in the caller's transaction."""
    rules.check_move(ticket.state, TicketState.CLOSED, number=ticket.number)
    await move(ticket, TicketState.CLOSED, actor=actor, now=now, also=("closed_at",))


async def move(
    ticket: Ticket,
    to: TicketState,
    *,
    actor: Actor | None,
    now: datetime,
    also: tuple[str, ...] = (),
) -> None:
    """Record a locked ticket's new state (the caller checked the move) and announce it."""
    before = ticket.state
    ticket.state = to
    if to is TicketState.CLOSED:
        ticket.closed_at = now
    await ticket.save(update_fields=["state", *also, "updated_at"])
    await timeline.add(
        ticket_id=ticket.id,
        kind=TimelineKind.STATE_CHANGE,
        actor=actor,
        now=now,
        data={"from": before.value, "to": to.value},
    )
    await announce(TICKETS, ticket.number)


@dataclass(frozen=True)
class _Opening:
    member: Member
    order: Order | None
    category: TicketCategory
    channel: TicketChannel
    text: str
    photos: list[str]
    key: str | None


async def _own_order(member_id: int, number: str | None) -> Order | None:
    """The member's own order by number; NotYourOrder for any other (absent or not theirs)."""
    if number is None or not number.strip():
        return None
    wanted = number.strip().upper()
    order = None
    if validation.fits(Order, "number", wanted):
        order = await Order.get_or_none(number=wanted)
    if order is None or order.member_id != member_id:
        raise NotYourOrder(f"{number!r} is not one of your orders", field="order_number")
    return order


async def _open(
    opening: _Opening,
    *,
    actor: Actor | None,
    now: datetime,
    policy: TicketPolicy,
    call_outcome: str = "",
) -> Ticket:
    for attempt in range(1, NUMBER_ATTEMPTS + 1):
        try:
            async with in_transaction():
                return await _write(
                    opening, actor=actor, now=now, policy=policy, call_outcome=call_outcome
                )
        except IntegrityError:
            number_taken = opening.key is None or not await Ticket.exists(
                member_id=opening.member.id, idempotency_key=opening.key
            )
            if not number_taken or attempt == NUMBER_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _write(
    opening: _Opening,
    *,
    actor: Actor | None,
    now: datetime,
    policy: TicketPolicy,
    call_outcome: str,
) -> Ticket:
    clock = rules.opened(now, policy)
    hotline = opening.channel is TicketChannel.HOTLINE
    ticket = Ticket(
        number=rules.new_ticket_number(now),
        member_id=opening.member.id,
        order_id=opening.order.id if opening.order else None,
        category=opening.category,
        state=TicketState.OPEN if hotline else TicketState.NEW,
        channel=opening.channel,
        subject=rules.subject_of(opening.text),
        assignee=actor.subject if hotline and actor is not None else "",
        idempotency_key=opening.key,
        opened_at=now,
    )
    if hotline:
        clock = rules.replied(clock, now)
    promise.put_clock(ticket, clock)
    await ticket.save()
    member_actor = Actor(Role.MEMBER, opening.member.external_id)
    if hotline:
        await timeline.add(
            ticket_id=ticket.id,
            kind=TimelineKind.CALL,
            actor=actor,
            now=now,
            body=opening.text,
            channel="PHONE",
            call_outcome=call_outcome,
        )
    else:
        await timeline.add(
            ticket_id=ticket.id,
            kind=TimelineKind.MEMBER_MESSAGE,
            actor=member_actor,
            now=now,
            body=opening.text,
            channel=opening.channel.value,
            data={"photos": opening.photos} if opening.photos else None,
        )
    await promise.watch(ticket, clock, policy)
    await acknowledge(ticket, now=now, policy=policy)
    await announce(TICKETS, ticket.number)
    return ticket


async def acknowledge(ticket: Ticket, *, now: datetime, policy: TicketPolicy) -> None:
    """The automatic acknowledgement: the ticket's number and the promise (not a reply)."""
    hours = int(policy.first_reply.total_seconds() // 3600)
    await outbox.notify(
        kind=Kind.TICKET_RECEIVED,
        member_id=ticket.member_id,
        dedupe_key=f"ticket:{ticket.number}:received",
        data={"ticket": ticket.number, "reply_hours": hours},
        now=now,
    )
    await timeline.add(
        ticket_id=ticket.id,
        kind=TimelineKind.ACKNOWLEDGEMENT,
        actor=None,
        now=now,
        data={"reply_hours": hours},
    )


async def _member_wrote(
    ticket: Ticket,
    body: str,
    photos: list[str],
    channel: TicketChannel,
    *,
    at: datetime,
    policy: TicketPolicy,
) -> None:
    """A member's message on a locked ticket: the clock runs again and owes an answer."""
    clock = promise.clock_of(ticket)
    member = await Member.get(id=ticket.member_id)
    actor = Actor(Role.MEMBER, member.external_id)
    await timeline.add(
        ticket_id=ticket.id,
        kind=TimelineKind.MEMBER_MESSAGE,
        actor=actor,
        now=at,
        body=body,
        channel=channel.value,
        data={"photos": photos} if photos else None,
    )
    if ticket.state is TicketState.RESOLVED:
        await promise.set_clock(ticket, rules.reopened(clock, at, policy), policy)
        ticket.resolved_at = None
        await move(ticket, TicketState.OPEN, actor=actor, now=at, also=("resolved_at",))
        return
    await promise.set_clock(ticket, rules.member_wrote(clock, at, policy), policy)
    if ticket.state is TicketState.WAITING_ON_MEMBER:
        await move(ticket, TicketState.OPEN, actor=actor, now=at)
    else:
        await announce(TICKETS, ticket.number)
