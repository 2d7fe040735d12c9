"""Order reads: a member's orders, one order for whoever may see it, lines for loaders.

Who may see an order is who may act on it (`lifecycle.may_act_on`), and service agents,
who see every member's orders (what a ticket needs) but act on none."""

from __future__ import annotations

from collections.abc import Sequence

from models import validation
from models.actors import Actor, Role
from models.orders.lifecycle import may_act_on
from models.orders.models import Order, OrderLine, OrderStatus
from models.paging import Page, SortKey, paginate

NEWEST_FIRST = (SortKey("id", descending=True),)


async def may_see(actor: Actor, order: Order) -> bool:
    """Agents see every order; everyone else the orders they may act on."""
    return actor.role is Role.AGENT or await may_act_on(actor, order)


async def member_orders(
    *, member_id: int, statuses: Sequence[OrderStatus] | None, first: int, after: str | None
) -> Page[Order]:
    """A member's orders, newest first, optionally only some statuses."""
    query = Order.filter(member_id=member_id)
    if statuses:
        query = query.filter(status__in=list(statuses))
    return await paginate(
        query, keys=NEWEST_FIRST, first=first, after=after, key_of=lambda o: [o.id]
    )


async def visible_order(*, number: str, actor: Actor) -> Order | None:
    """The order with that number if the actor may see it; None otherwise."""
    if not validation.fits(Order, "number", number):
        return None
    order = await Order.get_or_none(number=number)
    if order is None or not await may_see(actor, order):
        return None
    return order


async def lines_by_order_ids(ids: Sequence[int]) -> list[list[OrderLine]]:
    grouped: dict[int, list[OrderLine]] = {i: [] for i in ids}
    for line in await OrderLine.filter(order_id__in=list(ids)).order_by("id"):
        grouped[line.order_id].append(line)
    return [grouped[i] for i in ids]


async def orders_by_ids(ids: Sequence[int]) -> list[Order | None]:
    found = {o.id: o for o in await Order.filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


__all__ = ["lines_by_order_ids", "may_see", "member_orders", "orders_by_ids", "visible_order"]
