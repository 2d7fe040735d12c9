"""The warehouse work queue: its orders, earliest ship-by deadline first, in stable pages.

A page is a keyset page on `(ship_by, id)` over the `(warehouse_id, status, ship_by)` index:
one statement for the warehouse, one `COUNT`, one for the rows, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fulfilment import rules
from models import validation
from models.catalog.models import Warehouse
from models.errors import NotFound
from models.orders.models import Order, OrderStatus
from models.orders.rules import OPEN_STATUSES
from models.paging import (
    Page,
    SortKey,
    after_filter,
    check_page_size,
    decode_cursor,
    encode_cursor,
)

QUEUE_ORDER = (SortKey("ship_by", kind="datetime"), SortKey("id"))


async def work_queue(
    *,
    warehouse_code: str,
    statuses: Sequence[OrderStatus] | None,
    first: int,
    after: str | None,
) -> Page[Order]:
    """The warehouse's orders, earliest deadline first; raises InvalidInput, NotFound."""
    check_page_size(first)
    warehouse = None
    if validation.fits(Warehouse, "code", warehouse_code):
        warehouse = await Warehouse.filter(code=warehouse_code).only("id").first()
    if warehouse is None:
        raise NotFound(f"no warehouse {warehouse_code!r}", field="warehouse_code")
    query = Order.filter(
        warehouse_id=warehouse.id,
        status__in=sorted(statuses or OPEN_STATUSES),
        ship_by__isnull=False,
    )
    total = await query.count()
    if first == 0:
        return Page([], [], total > 0 and after is None, total)
    page_query = query.order_by(*(key.ordering for key in QUEUE_ORDER))
    if after is not None:
        page_query = page_query.filter(after_filter(QUEUE_ORDER, decode_cursor(after, QUEUE_ORDER)))
    rows = list(await page_query.limit(first + 1))
    items = rows[:first]
    cursors = [encode_cursor(_key(order)) for order in items]
    return Page(items, cursors, len(rows) > first, total)


def _key(order: Order) -> tuple[datetime, int]:
    assert order.ship_by is not None
    return rules.queue_key(order.ship_by, order.id)
