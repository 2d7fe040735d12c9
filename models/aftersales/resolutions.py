"""Resolutions that act on the domain: refund an order's points, a goodwill credit, a
replacement (returns: `returns.py`).

Each is one transaction on the locked ticket, recorded on it (a `Resolution` and a timeline
entry) and told to the member through the outbox, and idempotent: an agent's click carries
a key, and the same key again (a retried click, a double click) answers with the first
resolution and does nothing; the same key with other details is IDEMPOTENCY_CONFLICT. The
ticket's row lock serialises clicks on one ticket; the unique `(ticket, key)` is the
backstop. What each does is done by the module that owns it: the ledger refunds into the
lots the points came from and credits (`models.points`), the redemption's own placement
reserves and books a replacement (`models.orders.replacement`).

Goodwill credits count against the agent's daily cap (admins set it; the programme's day);
above it the credit is refused with APPROVAL_REQUIRED, or, asked for, recorded awaiting a
supervisor (an admin), whose approval credits it. Admins credit without a cap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
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
    ReturnParcel,
    Ticket,
    TimelineKind,
)
from models.aftersales.rules import TicketPolicy
from models.aftersales.tickets import for_agent, locked
from models.errors import (
    ApprovalRequired,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from models.events import TICKETS, announce
from models.members.models import Member
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.orders import replacement
from models.orders.models import Order, OrderLine, OrderStatus
from models.orders.ports import OrderEffect, ShipPlanner
from models.points import service as points
from models.points.models import EntryKind
from models.points.reads import refundable

REFUNDABLE = frozenset(
    {
        OrderStatus.CONFIRMED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
    }
)
SENT = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})
MAX_GOODWILL = 100_000


@dataclass(frozen=True)
class Resolved:
    """A resolution and its ticket; `replayed` when the key had done it before."""

    ticket: Ticket
    resolution: Resolution
    replayed: bool = False


@dataclass(frozen=True)
class Click:
    """An agent's click: its key and what it asked for."""

    key: str
    fingerprint: str


Act = Callable[[Ticket, Click], Awaitable[Resolution]]


def fingerprint(kind: ResolutionKind, details: Mapping[str, Any]) -> str:
    """What a resolution was asked to do, to tell a retried click from another request."""
    text = json.dumps({"kind": kind.value, **details}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def once(
    *,
    actor: Actor,
    number: str,
    key: str,
    kind: ResolutionKind,
    details: Mapping[str, Any],
    act: Act,
    now: datetime,
) -> Resolved:
    """Do `act` on the locked ticket once per key, recorded on its timeline; raises
    InvalidInput, NotFound, TicketClosed, IdempotencyConflict and whatever `act` raises."""
    key = validation.identifier(key, field="idempotency_key", max_length=128)
    wanted = fingerprint(kind, details)
    async with in_transaction():
        ticket = await for_agent(number=number, actor=actor)
        earlier = await Resolution.get_or_none(ticket_id=ticket.id, idempotency_key=key)
        if earlier is not None:
            if earlier.fingerprint != wanted:
                raise IdempotencyConflict(
                    "this idempotencyKey was used for another resolution", field="idempotency_key"
                )
            return Resolved(ticket, earlier, replayed=True)
        resolution = await act(ticket, Click(key, wanted))
        await timeline.add(
            ticket_id=ticket.id,
            kind=TimelineKind.RESOLUTION,
            actor=actor,
            now=now,
            body=resolution.reason,
            data={
                "resolution": resolution.id,
                "kind": kind.value,
                "status": resolution.status.value,
            },
        )
        await ticket.save(update_fields=["updated_at"])
        await announce(TICKETS, ticket.number)
        return Resolved(ticket, resolution)


async def new_resolution(
    ticket: Ticket,
    kind: ResolutionKind,
    status: ResolutionStatus,
    *,
    click: Click,
    actor: Actor,
    now: datetime,
    order: Order | None = None,
    points_: int = 0,
    lines: Sequence[Mapping[str, Any]] = (),
    reason: str = "",
) -> Resolution:
    """The resolution's row."""
    return await Resolution.create(
        ticket_id=ticket.id,
        kind=kind,
        status=status,
        idempotency_key=click.key,
        fingerprint=click.fingerprint,
        agent=actor.subject,
        order_id=order.id if order else None,
        points=points_,
        lines=[dict(line) for line in lines],
        reason=reason,
        created_at=now,
        settled_at=now if status is ResolutionStatus.DONE else None,
    )


async def ticket_order(ticket: Ticket, *, allowed: frozenset[OrderStatus], wanted: str) -> Order:
    """The order the ticket names, in a status the resolution can act on; raises
    InvalidInput (none named), InvalidTransition."""
    if ticket.order_id is None:
        raise InvalidInput("the ticket names no order", field="number")
    order = await Order.select_for_update().get(id=ticket.order_id)
    if order.status not in allowed:
        raise InvalidTransition(current=order.status.value, wanted=wanted)
    return order


# --- lines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineChoice:
    """Units of one of the order's lines, by SKU."""

    sku: str
    quantity: int


async def chosen_lines(
    order: Order, choices: Sequence[LineChoice] | None, *, taken: Mapping[str, int]
) -> list[dict[str, Any]]:
    """The lines a resolution acts on (None: every unit not yet `taken`), with their points;
    raises InvalidInput naming the line."""
    lines = {line.sku: line for line in await OrderLine.filter(order_id=order.id).order_by("id")}
    if choices is None:
        choices = [
            LineChoice(sku, line.quantity - taken.get(sku, 0)) for sku, line in lines.items()
        ]
        choices = [c for c in choices if c.quantity > 0]
    chosen: dict[str, int] = {}
    for index, choice in enumerate(choices):
        sku = choice.sku.strip().upper()
        line = lines.get(sku)
        if line is None:
            raise InvalidInput(
                f"order {order.number} has no line {choice.sku!r}", field=f"lines.{index}.sku"
            )
        chosen[sku] = chosen.get(sku, 0) + choice.quantity
        left = line.quantity - taken.get(sku, 0)
        if choice.quantity < 1 or chosen[sku] > left:
            raise InvalidInput(f"1 to {left} units of {sku}", field=f"lines.{index}.quantity")
    if not chosen:
        raise InvalidInput("nothing is left to act on in this order", field="lines")
    return [
        {"sku": sku, "quantity": units, "points": int(lines[sku].points_each) * units}
        for sku, units in chosen.items()
    ]


async def units_taken(order: Order, kind: ResolutionKind) -> dict[str, int]:
    """Units of each line earlier resolutions of `kind` acted on (refunded, replaced)."""
    done: dict[str, int] = {}
    for row in await Resolution.filter(order_id=order.id, kind=kind).exclude(
        status=ResolutionStatus.AWAITING_APPROVAL
    ):
        for line in row.lines or []:
            done[str(line["sku"])] = done.get(str(line["sku"]), 0) + int(line["quantity"])
    return done


# --- refund points ---------------------------------------------------------------------------


async def refund_points(
    *,
    actor: Actor,
    number: str,
    key: str,
    lines: Sequence[LineChoice] | None,
    now: datetime,
) -> Resolved:
    """Refund the ticket's order's points, whole or by lines, into the lots they came from;
    raises InvalidInput, NotFound, TicketClosed, InvalidTransition, IdempotencyConflict."""

    async def act(ticket: Ticket, click: Click) -> Resolution:
        order = await ticket_order(ticket, allowed=REFUNDABLE, wanted="REFUNDED")
        left = await refundable(order_number=order.number)
        if lines is None:
            chosen, amount = [], left
        else:
            taken = await units_taken(order, ResolutionKind.REFUND_POINTS)
            chosen = await chosen_lines(order, lines, taken=taken)
            amount = sum(int(line["points"]) for line in chosen)
        if amount < 1 or amount > left:
            raise InvalidInput(
                f"{left} points of order {order.number} are left to refund", field="lines"
            )
        resolution = await new_resolution(
            ticket,
            ResolutionKind.REFUND_POINTS,
            ResolutionStatus.DONE,
            click=click,
            actor=actor,
            now=now,
            order=order,
            points_=amount,
            lines=chosen,
            reason=f"Refunded {amount} points of order {order.number}",
        )
        await points.refund_part(
            order_number=order.number,
            amount=amount,
            external_ref=f"resolution:{resolution.id}",
            now=now,
            reason=f"Refund for ticket {ticket.number}",
        )
        await outbox.notify(
            kind=Kind.TICKET_REFUNDED,
            member_id=ticket.member_id,
            dedupe_key=f"resolution:{resolution.id}",
            data={"ticket": ticket.number, "number": order.number, "points": amount},
            now=now,
            order_id=order.id,
        )
        return resolution

    details = {"lines": None if lines is None else [(c.sku, c.quantity) for c in lines]}
    return await once(
        actor=actor,
        number=number,
        key=key,
        kind=ResolutionKind.REFUND_POINTS,
        details=details,
        act=act,
        now=now,
    )


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
    cap = await GoodwillCap.select_for_update().get(agent=actor.subject)
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
        resolution = await Resolution.select_for_update().get(id=found.id)
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


# --- replacement -----------------------------------------------------------------------------


async def send_replacement(
    *,
    actor: Actor,
    number: str,
    key: str,
    lines: Sequence[LineChoice] | None,
    now: datetime,
    planner: ShipPlanner,
    effects: Sequence[OrderEffect] = (),
) -> Resolved:
    """A new order for the same gifts at zero points, reserved and booked under the
    seven-day promise; raises InvalidInput, NotFound, TicketClosed, InvalidTransition,
    OutOfStock, CapacityExhausted, IdempotencyConflict (nothing is taken when refused)."""

    async def act(ticket: Ticket, click: Click) -> Resolution:
        order = await ticket_order(ticket, allowed=SENT, wanted="REPLACED")
        chosen = await chosen_lines(order, lines, taken={})
        resolution = await new_resolution(
            ticket,
            ResolutionKind.REPLACEMENT,
            ResolutionStatus.DONE,
            click=click,
            actor=actor,
            now=now,
            order=order,
            lines=[{**line, "points": 0} for line in chosen],
            reason=f"Replacement of order {order.number}",
        )
        sent = await replacement.place_replacement(
            original=order,
            quantities={str(line["sku"]): int(line["quantity"]) for line in chosen},
            key=f"replacement:{resolution.id}",
            now=now,
            planner=planner,
            effects=effects,
        )
        resolution.replacement_id = sent.id
        resolution.reason = f"Replacement of order {order.number}: order {sent.number}"
        await resolution.save(update_fields=["replacement_id", "reason"])
        await outbox.notify(
            kind=Kind.TICKET_REPLACEMENT,
            member_id=ticket.member_id,
            dedupe_key=f"resolution:{resolution.id}",
            data={"ticket": ticket.number, "number": sent.number, "points": 0},
            now=now,
            order_id=sent.id,
        )
        return resolution

    details = {"lines": None if lines is None else [(c.sku, c.quantity) for c in lines]}
    return await once(
        actor=actor,
        number=number,
        key=key,
        kind=ResolutionKind.REPLACEMENT,
        details=details,
        act=act,
        now=now,
    )


async def parcels_by_resolution_ids(ids: Sequence[int]) -> list[ReturnParcel | None]:
    found = {p.resolution_id: p for p in await ReturnParcel.filter(resolution_id__in=list(ids))}
    return [found.get(i) for i in ids]
