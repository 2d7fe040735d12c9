"""A return: the member sends the gift back, the parcel is tracked by carrier scans like an
outbound one, and its receipt restocks the units and refunds the points (and the cash
part, through Stripe, of a paid order).

Scans come through the carrier webhook (a tracking number no outbound parcel has is looked
for among the returns) or from staff, with the same rules as an outbound parcel's
(`models.parcels`): each scan stored once, the parcel's status its latest scan's by when it
happened. A DELIVERED scan is the return received at the warehouse: the receipt happens
once, under the resolution's row lock, whatever the order in which scans arrive (a late
IN_TRANSIT after the DELIVERED changes nothing, a DELIVERED sent twice is stored once). The
cash refund is asked of Stripe after the receipt commits, never inside it; one that could
not be made then is retried by the worker (`scheduled`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import parcels, sql
from models.actors import Actor, Role
from models.aftersales import timeline
from models.aftersales.models import (
    Resolution,
    ResolutionKind,
    ResolutionStatus,
    ReturnParcel,
    ReturnScan,
    Ticket,
    TimelineKind,
)
from models.aftersales.resolutions import SENT, Click, Resolved, new_resolution, once, ticket_order
from models.catalog import stock
from models.catalog.models import Warehouse
from models.errors import DuplicateTrackingNumber, InvalidTransition, NotFound, PaymentUnavailable
from models.events import TICKETS, announce
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.orders.models import Order, OrderLine
from models.orders.ports import PaymentStarter
from models.payments import settlement
from models.points import service as points
from models.points.reads import refundable

log = logging.getLogger("pointsmall.aftersales")
RECEIVED = "DELIVERED"  # a return delivered is a return received at the warehouse
PENDING, DONE = "PENDING", "DONE"
OUTBOUND_PARCEL = "SELECT 1 FROM shipment WHERE carrier = $1 AND tracking_number = $2"


async def start_return(
    *, actor: Actor, number: str, key: str, carrier: str, tracking_number: str, now: datetime
) -> Resolved:
    """Expect the ticket's order back by the parcel given; raises InvalidInput, NotFound,
    TicketClosed, InvalidTransition, DuplicateTrackingNumber, IdempotencyConflict."""
    code = parcels.carrier_code(carrier)
    tracking = parcels.tracking_number(tracking_number)

    async def act(ticket: Ticket, click: Click) -> Resolution:
        order = await ticket_order(ticket, allowed=SENT, wanted="RETURNED")
        if await Resolution.exists(order_id=order.id, kind=ResolutionKind.RETURN):
            raise InvalidTransition(current="RETURN_STARTED", wanted="RETURNED", field="number")
        await _unused(code, tracking)
        resolution = await new_resolution(
            ticket,
            ResolutionKind.RETURN,
            ResolutionStatus.AWAITING_RETURN,
            click=click,
            actor=actor,
            now=now,
            order=order,
            reason=f"Return of order {order.number} by {code} {tracking}",
        )
        await ReturnParcel.create(
            resolution_id=resolution.id, carrier=code, tracking_number=tracking
        )
        await outbox.notify(
            kind=Kind.TICKET_RETURN_EXPECTED,
            member_id=ticket.member_id,
            dedupe_key=f"resolution:{resolution.id}",
            data={
                "ticket": ticket.number,
                "number": order.number,
                "carrier": code,
                "tracking": tracking,
            },
            now=now,
            order_id=order.id,
        )
        return resolution

    details = {"carrier": code, "tracking": tracking}
    return await once(
        actor=actor,
        number=number,
        key=key,
        kind=ResolutionKind.RETURN,
        details=details,
        act=act,
        now=now,
    )


async def _unused(carrier: str, tracking: str) -> None:
    """A return's tracking number may be no other parcel's, outbound or back."""
    taken = await ReturnParcel.exists(carrier=carrier, tracking_number=tracking)
    if taken or await sql.fetch_one(OUTBOUND_PARCEL, carrier, tracking) is not None:
        raise DuplicateTrackingNumber(
            f"{carrier} tracking number {tracking} is already on another parcel",
            field="tracking_number",
        )


@dataclass(frozen=True)
class ReturnScanned:
    """The return after a scan: `created` False when the scan was stored already,
    `received` when this scan was the receipt."""

    parcel: ReturnParcel
    created: bool
    received: bool
    resolution_id: int


async def record_scan(
    *, scan: parcels.Scan, actor: Actor | None, now: datetime, prefix: str = ""
) -> ReturnScanned | None:
    """Store a scan of a return once (actor None: a carrier's signed webhook); None when no
    return has that parcel. Raises InvalidInput, NotFound (the actor may not see it)."""
    scan = parcels.clean_scan(scan, now=now, prefix=prefix)
    found = await ReturnParcel.get_or_none(
        carrier=scan.carrier, tracking_number=scan.tracking_number
    )
    if found is None:
        return None
    async with in_transaction():
        resolution = await Resolution.get(id=found.resolution_id)
        ticket = await Ticket.select_for_update(no_key=True).get(id=resolution.ticket_id)
        resolution = await Resolution.select_for_update(no_key=True).get(id=found.resolution_id)
        if actor is not None and not await _may_scan(actor, resolution):
            raise NotFound(
                f"no {scan.carrier} parcel {scan.tracking_number}", field=f"{prefix}tracking_number"
            )
        parcel = await ReturnParcel.select_for_update(no_key=True).get(id=found.id)
        if not await _store(parcel, scan):
            return ReturnScanned(parcel, created=False, received=False, resolution_id=resolution.id)
        received = scan.status == RECEIVED and resolution.status is ResolutionStatus.AWAITING_RETURN
        await _settle(parcel)
        if received:
            await _receive(ticket, resolution, parcel, at=scan.occurred_at, now=now)
        await announce(TICKETS, ticket.number)
    return ReturnScanned(parcel, created=True, received=received, resolution_id=resolution.id)


async def _may_scan(actor: Actor, resolution: Resolution) -> bool:
    """Admins and the staff of the warehouse the order shipped from (it goes back there)."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.WAREHOUSE or resolution.order_id is None:
        return False
    order = await Order.get(id=resolution.order_id)
    warehouse = await Warehouse.filter(id=order.warehouse_id or 0).only("id", "code").first()
    return warehouse is not None and actor.works_in(warehouse.code)


async def _store(parcel: ReturnParcel, scan: parcels.Scan) -> bool:
    if await ReturnScan.exists(
        parcel_id=parcel.id, status=scan.status, occurred_at=scan.occurred_at
    ):
        return False
    try:
        async with in_transaction():  # a savepoint: the unique triple settles a race
            await ReturnScan.create(
                parcel_id=parcel.id,
                status=scan.status,
                location=scan.location,
                description=scan.description,
                occurred_at=scan.occurred_at,
            )
    except IntegrityError:
        return False
    return True


async def _settle(parcel: ReturnParcel) -> None:
    scans = await ReturnScan.filter(parcel_id=parcel.id).values_list("occurred_at", "id", "status")
    parcel.status = parcels.latest([(at, i, str(status)) for at, i, status in scans]) or ""
    await parcel.save(update_fields=["status", "updated_at"])


async def _receive(
    ticket: Ticket, resolution: Resolution, parcel: ReturnParcel, *, at: datetime, now: datetime
) -> None:
    """The return arrived: the units go back on hand, the points back into their lots, and
    the cash part of a paid order is owed back (asked of Stripe after the commit)."""
    order = await Order.select_for_update(no_key=True).get(id=resolution.order_id)
    lines = await OrderLine.filter(order_id=order.id).values_list("gift_id", "quantity")
    if order.warehouse_id is not None:
        await stock.restock(
            warehouse_id=order.warehouse_id,
            quantities={int(gift): int(units) for gift, units in lines},
            reason=f"returned order {order.number}",
        )
    left = await refundable(order_number=order.number)
    if left > 0:
        await points.refund_part(
            order_number=order.number,
            amount=left,
            external_ref=f"resolution:{resolution.id}",
            now=now,
            reason=f"Return received for ticket {ticket.number}",
        )
    cash = await settlement.paid_cash(order_id=order.id)
    resolution.status, resolution.points, resolution.settled_at = (
        ResolutionStatus.RECEIVED,
        left,
        now,
    )
    resolution.cash_refund = PENDING if cash else ""
    await resolution.save(update_fields=["status", "points", "settled_at", "cash_refund"])
    parcel.received_at = at
    await parcel.save(update_fields=["received_at", "updated_at"])
    await timeline.add(
        ticket_id=ticket.id,
        kind=TimelineKind.RESOLUTION,
        actor=None,
        now=now,
        body=f"Return of order {order.number} received",
        data={"resolution": resolution.id, "kind": "RETURN", "status": "RECEIVED", "points": left},
    )
    await outbox.notify(
        kind=Kind.TICKET_RETURN_RECEIVED,
        member_id=ticket.member_id,
        dedupe_key=f"resolution:{resolution.id}:received",
        data={
            "ticket": ticket.number,
            "number": order.number,
            "points": left,
            "cash": str(order.cash_total) if cash and order.cash_total is not None else "",
        },
        now=now,
        order_id=order.id,
    )
    await ticket.save(update_fields=["updated_at"])


async def refund_cash(*, resolution_id: int, gateway: PaymentStarter | None) -> bool:
    """Refund a received return's cash part through Stripe, once; whether it is done (False:
    Stripe unavailable, retried by the worker)."""
    resolution = await Resolution.get(id=resolution_id)
    if resolution.cash_refund != PENDING or resolution.order_id is None:
        return resolution.cash_refund != PENDING
    if gateway is None:
        return False
    order = await Order.get(id=resolution.order_id)
    try:
        await settlement.refund_paid(order_number=order.number, gateway=gateway)
    except PaymentUnavailable:
        log.warning("cash refund of returned order %s deferred to the worker", order.number)
        return False
    await Resolution.filter(id=resolution.id, cash_refund=PENDING).update(cash_refund=DONE)
    return True


async def refund_pending_cash(*, gateway: PaymentStarter | None, batch: int = 100) -> int:
    """Retry the cash refunds of returns Stripe missed; how many are done now."""
    if gateway is None:
        return 0
    pending = (
        await Resolution.filter(
            kind=ResolutionKind.RETURN, status=ResolutionStatus.RECEIVED, cash_refund=PENDING
        )
        .order_by("id")
        .limit(batch)
    )
    done = 0
    for resolution in pending:
        if not await refund_cash(resolution_id=resolution.id, gateway=gateway):
            break
        done += 1
    return done
