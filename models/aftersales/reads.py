"""Ticket reads: who may see a ticket, one ticket, a member's tickets, a timeline, and the
agents' queue.

Members see their own tickets and only the public entries of their timelines; agents and
admins see every ticket and every entry; warehouse staff see none. A ticket another caller
may not see answers exactly as one that does not exist.

The queue is a keyset page on `(next_due_at, id)`: open tickets by their earliest running
deadline (a ticket waiting on the member runs none and sorts last). Its filters are
columns of the ticket row, so a page is one `COUNT` and one statement for the rows at any
page size; what a page shows besides (members, orders) is read by loaders in one statement
each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from models import validation
from models.actors import Actor, Role
from models.aftersales import rules
from models.aftersales.models import (
    Resolution,
    Survey,
    Ticket,
    TicketCategory,
    TicketState,
    TimelineEntry,
)
from models.members.models import Member
from models.paging import (
    Page,
    SortKey,
    after_filter,
    check_page_size,
    decode_cursor,
    encode_cursor,
    paginate,
)

QUEUE_ORDER = (SortKey("next_due_at", kind="datetime"), SortKey("id"))
NEWEST_FIRST = (SortKey("id", descending=True),)
OLDEST_FIRST = (SortKey("id"),)


async def may_see(actor: Actor, ticket: Ticket) -> bool:
    """Agents and admins see every ticket, a member their own, anyone else none."""
    if actor.handles_tickets:
        return True
    if actor.role is not Role.MEMBER:
        return False
    member = await Member.filter(id=ticket.member_id).only("id", "external_id").first()
    return member is not None and member.external_id == actor.subject


async def visible_ticket(*, number: str, actor: Actor) -> Ticket | None:
    """The ticket with that number if the actor may see it; None otherwise."""
    if not validation.fits(Ticket, "number", number):
        return None
    ticket = await Ticket.get_or_none(number=number.strip().upper())
    if ticket is None or not await may_see(actor, ticket):
        return None
    return ticket


async def member_tickets(*, external_id: str, first: int, after: str | None) -> Page[Ticket]:
    """A member's tickets, newest first."""
    member = await Member.filter(external_id=external_id).only("id").first()
    query = Ticket.filter(member_id=member.id if member else 0)
    page: Page[Ticket] = await paginate(
        query, keys=NEWEST_FIRST, first=first, after=after, key_of=lambda t: [t.id]
    )
    return page


async def ticket_timeline(
    *, ticket_id: int, public_only: bool, first: int, after: str | None
) -> Page[TimelineEntry]:
    """A ticket's timeline, oldest first (members: the public entries only)."""
    query = TimelineEntry.filter(ticket_id=ticket_id)
    if public_only:
        query = query.filter(public=True)
    page: Page[TimelineEntry] = await paginate(
        query, keys=OLDEST_FIRST, first=first, after=after, key_of=lambda e: [e.id]
    )
    return page


@dataclass(frozen=True)
class QueueFilter:
    """Which tickets the queue shows (None: any)."""

    categories: Sequence[TicketCategory] | None = None
    states: Sequence[TicketState] | None = None  # None: the open states
    at_risk: bool | None = None
    breached: bool | None = None
    assignee: str | None = None  # '' for unassigned
    attention: bool | None = None


async def queue(
    *, where: QueueFilter, first: int, after: str | None, now: datetime, threshold: timedelta
) -> Page[Ticket]:
    """Tickets by earliest deadline; raises InvalidInput (page size, cursor, assignee)."""
    check_page_size(first)
    query = Ticket.filter(state__in=sorted(where.states or rules.OPEN_STATES))
    if where.categories:
        query = query.filter(category__in=sorted(where.categories))
    if where.assignee is not None:
        assignee = where.assignee.strip()
        if assignee:
            assignee = validation.identifier(assignee, field="assignee")
        query = query.filter(assignee=assignee)
    if where.attention is not None:
        query = query.filter(attention=where.attention)
    query = _urgency_filter(query, where, now=now, threshold=threshold)
    total = await query.count()
    if first == 0:
        return Page([], [], total > 0 and after is None, total)
    page_query = query.order_by(*(key.ordering for key in QUEUE_ORDER))
    if after is not None:
        page_query = page_query.filter(after_filter(QUEUE_ORDER, decode_cursor(after, QUEUE_ORDER)))
    rows = list(await page_query.limit(first + 1))
    items = rows[:first]
    cursors = [encode_cursor([t.next_due_at, t.id]) for t in items]
    return Page(items, cursors, len(rows) > first, total)


def _urgency_filter(query, where: QueueFilter, *, now: datetime, threshold: timedelta):  # type: ignore[no-untyped-def]
    """At risk: the earliest deadline is ahead but sooner than the threshold; breached: it
    has passed (the rule of `models.promises.rules`, on the queue key)."""
    at_risk = Q(next_due_at__gt=now, next_due_at__lt=now + threshold)
    breached = Q(next_due_at__lte=now)
    if where.at_risk is True:
        query = query.filter(at_risk)
    elif where.at_risk is False:
        query = query.exclude(at_risk)
    if where.breached is True:
        query = query.filter(breached)
    elif where.breached is False:
        query = query.exclude(breached)
    return query


async def tickets_by_ids(ids: Sequence[int]) -> list[Ticket | None]:
    found = {t.id: t for t in await Ticket.filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


async def resolutions_by_ticket_ids(ids: Sequence[int]) -> list[list[Resolution]]:
    grouped: dict[int, list[Resolution]] = {i: [] for i in ids}
    for row in await Resolution.filter(ticket_id__in=list(ids)).order_by("id"):
        grouped[row.ticket_id].append(row)
    return [grouped[i] for i in ids]


async def surveys_by_ticket_ids(ids: Sequence[int]) -> list[Survey | None]:
    """Each ticket's latest survey."""
    latest: dict[int, Survey] = {}
    for row in await Survey.filter(ticket_id__in=list(ids)).order_by("id"):
        if row.ticket_id is not None:
            latest[row.ticket_id] = row
    return [latest.get(i) for i in ids]
