"""Goodwill: a COMPENSATION an agent credits a member for a ticket, a resolution like the
others (`resolutions.once`: one transaction, once per click, told to the member).

Goodwill counts against the agent's daily cap (admins set each agent's; the programme's
day); above it the credit is refused with APPROVAL_REQUIRED, or, asked for, recorded
awaiting a supervisor (an admin), whose approval credits it, once. Admins credit without a
cap. The agent's cap row is the lock that serialises their credits, so two at once cannot
both fit under the cap.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from models import validation
from models.actors import Actor, Role
from models.aftersales import rules, timeline
from models.aftersales.models import (
    GoodwillCap,
    Resolution,
    ResolutionKind,
    ResolutionStatus,
    Ticket,
    TimelineKind,
)
from models.aftersales.resolutions import Click, Resolved, new_resolution, once
from models.aftersales.rules import TicketPolicy
from models.aftersales.tickets import locked
from models.errors import ApprovalRequired, InvalidTransition, NotFound
from models.events import TICKETS, announce
from models.members.models import Member
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.points import service as points
from models.points.models import EntryKind

MAX_GOODWILL = 100_000


# --- goodwill --------------------------------------------------------------------------------


async def credit_goodwill(
    *,
    actor: Actor,
    number: str,
    key: str,
    amount: int,
    reason: str,
    request_approval: bool,
    now: datetime,
    policy: TicketPolicy,
) -> Resolved:
    """A goodwill COMPENSATION to the ticket's member, within the agent's daily cap (or
    recorded for a supervisor when asked); raises InvalidInput, NotFound, TicketClosed,
    ApprovalRequired, IdempotencyConflict."""
    amount = rules.check_points(amount, field="points", high=MAX_GOODWILL)
    said = rules.clean_text(reason, field="reason", max_length=200)

    async def act(ticket: Ticket, click: Click) -> Resolution:
        within = actor.role is Role.ADMIN or await _within_cap(
            actor, amount, now=now, policy=policy
        )
        if not within and not request_approval:
            raise ApprovalRequired(
                "above your daily goodwill cap: a supervisor must approve it", field="points"
            )
        status = ResolutionStatus.DONE if within else ResolutionStatus.AWAITING_APPROVAL
        resolution = await new_resolution(
            ticket,
            ResolutionKind.GOODWILL,
            status,
            click=click,
            actor=actor,
            now=now,
            points_=amount,
            reason=said,
        )
        if within:
            await _credit(ticket, resolution, now=now)
        return resolution

    details = {"points": amount, "reason": said}
    return await once(
        actor=actor,
        number=number,
        key=key,
        kind=ResolutionKind.GOODWILL,
        details=details,
        act=act,
        now=now,
    )


async def _within_cap(actor: Actor, amount: int, *, now: datetime, policy: TicketPolicy) -> bool:
    """Whether the agent's goodwill today and this credit stay within their cap; takes the
    agent's cap row lock, so two credits of one agent are counted one after the other."""
    await GoodwillCap.get_or_create(
        agent=actor.subject,
        defaults={"daily_points": policy.goodwill_daily_cap, "set_by": "default"},
    )
    cap = await GoodwillCap.select_for_update(no_key=True).get(agent=actor.subject)
    zone = ZoneInfo(policy.timezone)
    # The programme's day, compared in UTC (SQLite compares the stored text).
    day_start = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone).astimezone(UTC)
    credited = await Resolution.filter(
        agent=actor.subject,
        kind=ResolutionKind.GOODWILL,
        status=ResolutionStatus.DONE,
        approved_by="",
        created_at__gte=day_start,
    ).only("id", "points")
    spent = sum(int(row.points) for row in credited)
    return not rules.needs_approval(credited_today=spent, amount=amount, cap=int(cap.daily_points))


async def _credit(ticket: Ticket, resolution: Resolution, *, now: datetime) -> None:
    member = await Member.get(id=ticket.member_id)
    await points.award(
        member_external_id=member.external_id,
        amount=int(resolution.points),
        reason=f"Goodwill for ticket {ticket.number}",
        external_ref=f"resolution:{resolution.id}",
        now=now,
        kind=EntryKind.COMPENSATION,
    )
    await outbox.notify(
        kind=Kind.TICKET_GOODWILL,
        member_id=ticket.member_id,
        dedupe_key=f"resolution:{resolution.id}",
        data={"ticket": ticket.number, "points": int(resolution.points)},
        now=now,
        order_id=ticket.order_id,
    )


async def approve_goodwill(*, actor: Actor, resolution_id: int, now: datetime) -> Resolved:
    """A supervisor approves a goodwill credit above an agent's cap: it is credited (once);
    raises NotFound, InvalidTransition."""
    found = await Resolution.get_or_none(id=resolution_id, kind=ResolutionKind.GOODWILL)
    if found is None or actor.role is not Role.ADMIN:
        raise NotFound("no goodwill credit awaiting approval", field="resolution_id")
    async with in_transaction():
        ticket = await locked(number=(await Ticket.get(id=found.ticket_id)).number, actor=actor)
        resolution = await Resolution.select_for_update(no_key=True).get(id=found.id)
        if resolution.status is ResolutionStatus.DONE:
            return Resolved(ticket, resolution, replayed=True)
        if resolution.status is not ResolutionStatus.AWAITING_APPROVAL:
            raise InvalidTransition(
                current=resolution.status.value, wanted=ResolutionStatus.DONE.value
            )
        resolution.status, resolution.approved_by, resolution.settled_at = (
            ResolutionStatus.DONE,
            actor.subject,
            now,
        )
        await resolution.save(update_fields=["status", "approved_by", "settled_at"])
        await _credit(ticket, resolution, now=now)
        await timeline.add(
            ticket_id=ticket.id,
            kind=TimelineKind.RESOLUTION,
            actor=actor,
            now=now,
            body=resolution.reason,
            data={"resolution": resolution.id, "kind": "GOODWILL", "status": "APPROVED"},
        )
        await ticket.save(update_fields=["updated_at"])
        await announce(TICKETS, ticket.number)
        return Resolved(ticket, resolution)


async def set_goodwill_cap(*, actor: Actor, agent: str, daily_points: int) -> GoodwillCap:
    """An admin sets an agent's daily goodwill cap; raises InvalidInput."""
    subject = validation.identifier(agent, field="agent")
    cap = validation.bounded_int(daily_points, field="daily_points", low=0, high=MAX_GOODWILL)
    async with in_transaction():
        row, _ = await GoodwillCap.get_or_create(
            agent=subject, defaults={"daily_points": cap, "set_by": actor.subject}
        )
        row.daily_points, row.set_by = cap, actor.subject
        await row.save(update_fields=["daily_points", "set_by", "updated_at"])
        return row
