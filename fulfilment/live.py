"""Live streams for subscriptions: an order each time it changes, a warehouse's alerts.

Both listen to this process's bus (`models.events.LOCAL`, which `fulfilment.notify` feeds
from PostgreSQL) from before their first read, so no change between the check and the
first notice is missed. A notice carries only an id: each one is answered with rows read
fresh from the database, and a notice that finds nothing new yields nothing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime

from fulfilment.models import Alert, Shipment
from models import validation
from models.actors import Actor
from models.catalog.models import Warehouse
from models.errors import NotFound
from models.events import ALERTS, LOCAL, ORDERS, InProcessBus
from models.orders.models import Order
from models.orders.reads import visible_order


@dataclass(frozen=True)
class RaisedAlert:
    alert: Alert
    order: Order


async def order_changes(
    *, number: str, actor: Actor, bus: InProcessBus = LOCAL
) -> AsyncGenerator[Order, None]:
    """The order each time it changes, in order; raises NotFound (absent or not the actor's)."""
    with bus.listen(ORDERS) as notices:
        order = await visible_order(number=number, actor=actor)
        if order is None:
            raise NotFound(f"no order {number!r}", field="number")
        seen = await _version(order)
        async for payload in notices:
            if payload != order.number:
                continue
            order = await Order.get(id=order.id)
            version = await _version(order)
            if version != seen:
                seen = version
                yield order


async def _version(order: Order) -> tuple[datetime, datetime | None]:
    """What changes whenever the order or its parcel does (every scan touches the shipment)."""
    shipment = await Shipment.filter(order_id=order.id).only("id", "updated_at").first()
    return order.updated_at, shipment.updated_at if shipment else None


async def warehouse_alerts(
    *, warehouse_code: str, bus: InProcessBus = LOCAL
) -> AsyncGenerator[RaisedAlert, None]:
    """Each alert raised for the warehouse's orders from now on; raises NotFound."""
    with bus.listen(ALERTS) as notices:
        warehouse = None
        if validation.fits(Warehouse, "code", warehouse_code):
            warehouse = await Warehouse.get_or_none(code=warehouse_code)
        if warehouse is None:
            raise NotFound(f"no warehouse {warehouse_code!r}", field="warehouse_code")
        async for payload in notices:
            if not payload.isdigit():
                continue
            alert = await Alert.get_or_none(id=int(payload), warehouse_id=warehouse.id)
            if alert is not None:
                yield RaisedAlert(alert, await Order.get(id=alert.order_id))
