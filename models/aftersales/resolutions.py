"""Resolutions that act on the domain: refund an order's points, a replacement (a goodwill
credit: `goodwill.py`; a return: `returns.py`).

Each is one transaction on the locked ticket, recorded on it (a `Resolution` and a timeline
entry) and told to the member through the outbox, and idempotent: an agent's click carries
a key, and the same key again (a retried click, a double click) answers with the first
resolution and does nothing; the same key with other details is IDEMPOTENCY_CONFLICT. The
ticket's row lock serialises clicks on one ticket; the unique `(ticket, key)` is the
backstop. What each does is done by the module that owns it: the ledger refunds into the
lots the points came from and credits (`models.points`), the redemption's own placement
reserves and books a replacement (`models.orders.replacement`).

Goodwill credits (`goodwill.py`) are resolutions too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import validation
from models.actors import Actor
from models.aftersales import timeline
from models.aftersales.models import (
    Resolution,
    ResolutionKind,
    ResolutionStatus,
    ReturnParcel,
    Ticket,
    TimelineKind,
)
from models.aftersales.tickets import for_agent
from models.errors import (
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
)
from models.events import TICKETS, announce
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.orders import replacement
from models.orders.models import Order, OrderLine, OrderStatus
from models.orders.ports import OrderEffect, ShipPlanner
from models.points import service as points
from models.points.reads import refundable
from models.vouchers import assignment

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
    order = await Order.select_for_update(no_key=True).get(id=ticket.order_id)
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
        # A refunded e-voucher's code goes back to its pool if its member never saw it.
        await assignment.give_back(
            order_id=order.id, skus=None if lines is None else [str(c["sku"]) for c in chosen]
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
