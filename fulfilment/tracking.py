"""Carrier scans: stored once each, kept in the order they happened, DELIVERED completes
(and asks the member how satisfied they were: `models.aftersales.surveys`).

Lock order as everywhere: the order row first, then the shipment row, so a scan never
deadlocks with a shipping or a cancellation of the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from fulfilment import rules
from fulfilment.models import Shipment, ShipmentStatus, TrackingEvent
from models.actors import Actor
from models.aftersales import surveys
from models.errors import NotFound
from models.events import ORDERS, announce
from models.orders import lifecycle
from models.orders.models import Order, OrderStatus


@dataclass(frozen=True)
class Recorded:
    """The shipment after a scan; `created` is False when the scan was already stored."""

    shipment: Shipment
    created: bool


async def record(
    *, scan: rules.Scan, actor: Actor | None, now: datetime, prefix: str = ""
) -> Recorded:
    """Store a scan once (actor None: a carrier's signed webhook); raises InvalidInput, NotFound."""
    scan = rules.clean_scan(scan, now=now, prefix=prefix)
    missing = NotFound(
        f"no {scan.carrier} parcel {scan.tracking_number}", field=f"{prefix}tracking_number"
    )
    found = await Shipment.get_or_none(carrier=scan.carrier, tracking_number=scan.tracking_number)
    if found is None:
        raise missing
    async with in_transaction():
        order = await Order.select_for_update(no_key=True).get(id=found.order_id)
        if actor is not None and not await lifecycle.may_act_on(actor, order):
            raise missing
        shipment = await Shipment.select_for_update().get(id=found.id)
        if not await _store(shipment, scan):
            return Recorded(shipment, created=False)
        await _settle(shipment, order, scan)
        await announce(ORDERS, order.number)
    return Recorded(shipment, created=True)


async def _store(shipment: Shipment, scan: rules.Scan) -> bool:
    """Insert the scan unless it is stored already (same status at the same instant)."""
    status = ShipmentStatus(scan.status)
    if await TrackingEvent.exists(
        shipment_id=shipment.id, status=status, occurred_at=scan.occurred_at
    ):
        return False
    try:
        async with in_transaction():  # a savepoint: the unique triple settles a race
            await TrackingEvent.create(
                shipment_id=shipment.id,
                status=status,
                location=scan.location,
                description=scan.description,
                occurred_at=scan.occurred_at,
            )
    except IntegrityError:
        return False
    return True


async def _settle(shipment: Shipment, order: Order, scan: rules.Scan) -> None:
    """The shipment takes its latest scan's status; a delivery completes the order."""
    events = await TrackingEvent.filter(shipment_id=shipment.id).values_list(
        "occurred_at", "id", "status"
    )
    latest = rules.latest([(at, i, str(status)) for at, i, status in events])
    shipment.status = ShipmentStatus(latest or shipment.status)
    await shipment.save(update_fields=["status", "updated_at"])
    if scan.status == ShipmentStatus.DELIVERED and order.status is OrderStatus.SHIPPED:
        await lifecycle.move(order, OrderStatus.DELIVERED, at=scan.occurred_at)
        # How did it go? Asked with the delivery, in its transaction.
        await surveys.ask_about_order(order, now=scan.occurred_at)
