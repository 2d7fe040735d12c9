"""Handing a packed order to a carrier: the shipment, the stock leaving, the deadline met."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from fulfilment import rules
from fulfilment.models import Shipment
from models.actors import Actor, Role
from models.catalog import stock
from models.errors import DuplicateTrackingNumber, NotFound
from models.events import ORDERS, announce
from models.orders import lifecycle
from models.orders.models import Order, OrderStatus
from models.orders.ports import ShipPlanner
from models.orders.rules import check_move


async def ship(
    *,
    number: str,
    carrier: str,
    tracking_number: str,
    actor: Actor,
    now: datetime,
    planner: ShipPlanner,
) -> Order:
    """Ship a PACKED order; raises InvalidInput, NotFound, InvalidTransition, DuplicateTrackingNumber."""  # noqa: E501
    carrier = rules.carrier_code(carrier)
    tracking = rules.tracking_number(tracking_number)
    if actor.role is Role.MEMBER:
        raise NotFound(f"no order {number!r}", field="order_number")
    async with in_transaction():
        order = await lifecycle.locked_order(number=number, actor=actor)
        check_move(order.status, OrderStatus.SHIPPED)
        await _create_shipment(order, carrier=carrier, tracking=tracking, now=now)
        parcel = {"carrier": carrier, "tracking": tracking}
        await lifecycle.move(order, OrderStatus.SHIPPED, at=now, details=parcel)
        if order.warehouse_id is not None:
            await stock.ship(
                warehouse_id=order.warehouse_id,
                quantities=await lifecycle.quantities(order),
                reason=f"shipped order {order.number}",
            )
        await planner.unwatch(order)
        await announce(ORDERS, order.number)
    return order


async def _create_shipment(order: Order, *, carrier: str, tracking: str, now: datetime) -> None:
    duplicate = DuplicateTrackingNumber(
        f"{carrier} tracking number {tracking} is already on another parcel",
        field="tracking_number",
    )
    if await Shipment.exists(carrier=carrier, tracking_number=tracking):
        raise duplicate
    try:
        async with in_transaction():  # a savepoint: the unique pair settles a race
            await Shipment.create(
                order_id=order.id, carrier=carrier, tracking_number=tracking, shipped_at=now
            )
    except IntegrityError as exc:
        raise duplicate from exc
