"""Live streams for subscriptions: an order each time it changes, a warehouse's orders as
they arrive and move (its work queue, live), a warehouse's alerts.

Both listen to this process's bus (`models.events.LOCAL`, which `models.events.listener`
feeds from PostgreSQL) from before their first read, so no change between the check and the
first notice is missed. A notice carries only an id: each one is answered with rows read
fresh from the database, and a notice that finds nothing new yields nothing. `RESYNC`
(notices may have been lost) is answered like a notice about everything followed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta

from fulfilment.models import Alert, Shipment
from models import validation
from models.actors import Actor
from models.catalog.models import Warehouse
from models.errors import NotFound
from models.events import ALERTS, LOCAL, ORDERS, RESYNC, InProcessBus
from models.events.streams import SentIds
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
            if payload not in (order.number, RESYNC):
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


# A resync reads again the warehouse's orders changed since the newest change sent, less
# this margin: `updated_at` comes from the clock of whichever replica wrote it.
RESYNC_MARGIN = timedelta(minutes=1)
RESYNC_LIMIT = 500


async def warehouse_order_changes(
    *, warehouse_code: str, now: datetime, bus: InProcessBus = LOCAL
) -> AsyncGenerator[Order, None]:
    """Each order of the warehouse when it is placed or moves, from now on (a resync sends
    those changed meanwhile); raises NotFound."""
    with bus.listen(ORDERS) as notices:
        warehouse = await _warehouse(warehouse_code)
        sent = _Versions(since=now)
        async for payload in notices:
            if payload == RESYNC:
                changed = Order.filter(
                    warehouse_id=warehouse.id, updated_at__gte=sent.since - RESYNC_MARGIN
                )
                orders = list(await changed.order_by("updated_at").limit(RESYNC_LIMIT))
            elif validation.fits(Order, "number", payload):
                order = await Order.get_or_none(number=payload, warehouse_id=warehouse.id)
                orders = [] if order is None else [order]
            else:
                continue
            for order in orders:
                if sent.is_new(order):
                    yield order


class _Versions:
    """The version (`updated_at`) last sent of the recent orders, so that a late or
    repeated notice, or a resync, never sends the same state twice."""

    KEEP = 1000

    def __init__(self, since: datetime) -> None:
        self.since = since
        self._sent: OrderedDict[int, datetime] = OrderedDict()

    def is_new(self, order: Order) -> bool:
        if self._sent.get(order.id) == order.updated_at:
            return False
        self._sent[order.id] = order.updated_at
        self._sent.move_to_end(order.id)
        if len(self._sent) > self.KEEP:
            self._sent.popitem(last=False)
        self.since = max(self.since, order.updated_at)
        return True


async def _warehouse(code: str) -> Warehouse:
    warehouse = None
    if validation.fits(Warehouse, "code", code):
        warehouse = await Warehouse.get_or_none(code=code)
    if warehouse is None:
        raise NotFound(f"no warehouse {code!r}", field="warehouse_code")
    return warehouse


async def warehouse_alerts(
    *, warehouse_code: str, bus: InProcessBus = LOCAL
) -> AsyncGenerator[RaisedAlert, None]:
    """Each alert raised for the warehouse's orders from now on; raises NotFound."""
    with bus.listen(ALERTS) as notices:
        warehouse = await _warehouse(warehouse_code)
        latest = await Alert.filter(warehouse_id=warehouse.id).order_by("-id").first()
        sent = SentIds(latest.id if latest else 0)
        async for payload in notices:
            if payload == RESYNC:
                missed = Alert.filter(warehouse_id=warehouse.id, id__gt=sent.high)
                raised = [a for a in await missed.order_by("id") if a.id not in sent]
            elif payload.isdigit() and int(payload) not in sent:
                alert = await Alert.get_or_none(id=int(payload), warehouse_id=warehouse.id)
                raised = [] if alert is None else [alert]
            else:
                continue
            for alert in raised:
                sent.add(alert.id)
                yield RaisedAlert(alert, await Order.get(id=alert.order_id))
