"""Moving placed orders: cancellation, the warehouse's status steps, and `move`, the one
write of an order's status (shipping, delivery and payment move orders through it too)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import sql, validation
from models.actors import Actor, Role
from models.catalog import stock
from models.catalog.models import GiftKind, Warehouse
from models.errors import InvalidTransition, NotFound, PaymentUnavailable
from models.events import ORDERS, announce, announce_many
from models.members.models import Member
from models.notifications import outbox
from models.orders import rules
from models.orders.models import Order, OrderLine, OrderStatus
from models.orders.ports import PaymentStarter, ShipPlanner
from models.payments import settlement
from models.points import service as points
from models.topups import reads as topups
from models.vouchers import assignment

log = logging.getLogger("pointsmall.orders")


async def locked_order(*, number: str, actor: Actor) -> Order:
    """The order, row-locked, if the actor may act on it; NotFound otherwise."""
    order = None
    if validation.fits(Order, "number", number):
        # NO KEY UPDATE, as for every lock of an order: a transaction holding the member's
        # account (a compensation batch) may still write a row naming the order, which a
        # full FOR UPDATE would make wait for us while we wait for that account.
        order = await Order.filter(number=number).select_for_update(no_key=True).first()
    if order is None or not await may_act_on(actor, order):
        raise NotFound(f"no order {number!r}", field="order_number")
    return order


async def may_act_on(actor: Actor, order: Order) -> bool:
    """Admins act on every order, members on their own, staff on their warehouses' orders."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is Role.MEMBER:
        member = await Member.get_or_none(external_id=actor.subject)
        return member is not None and member.id == order.member_id
    if order.warehouse_id is None:
        return False
    warehouse = await Warehouse.filter(id=order.warehouse_id).only("id", "code").first()
    return warehouse is not None and actor.works_in(warehouse.code)


async def quantities(order: Order) -> dict[int, int]:
    """The units of the order a warehouse holds and ships: its parcels' lines."""
    rows = await OrderLine.filter(order_id=order.id, gift__kind=GiftKind.PHYSICAL).values_list(
        "gift_id", "quantity"
    )
    return {gift_id: int(quantity) for gift_id, quantity in rows}


async def cancel(
    *,
    number: str,
    actor: Actor,
    now: datetime,
    planner: ShipPlanner,
    gateway: PaymentStarter | None = None,
    reason: str = "",
) -> Order:
    """Cancel an unshipped order: points, stock and slot come back, a paid cash part too.

    Raises NotFound (absent or not the actor's) or InvalidTransition. If Stripe cannot be
    reached for the refund, the order stays cancelled and the sweeper retries the refund.
    """
    if actor.role is Role.WAREHOUSE:
        raise NotFound(f"no order {number!r}", field="order_number")
    async with in_transaction():
        order = await locked_order(number=number, actor=actor)
        await release_everything(order, now=now, planner=planner, reason=reason or "cancelled")
    if order.cash_total is not None:
        try:
            await settlement.settle_cancelled(order_number=order.number, gateway=gateway)
        except PaymentUnavailable:
            log.warning("refund of cancelled order %s deferred to the sweeper", order.number)
    return order


async def release_everything(
    order: Order, *, now: datetime, planner: ShipPlanner, reason: str
) -> None:
    """Cancel a locked order inside the caller's transaction; raises InvalidTransition
    (also for an order whose top-up is sent or landed: a credit is not taken back)."""
    rules.check_move(order.status, OrderStatus.CANCELLED)
    if await topups.under_way(order.id):
        raise InvalidTransition(current="TOP_UP_SENT", wanted=OrderStatus.CANCELLED.value)
    await points.lock_account(member_id=order.member_id)
    if order.status is OrderStatus.AWAITING_PAYMENT:
        await points.release_hold(order_number=order.number, now=now)
    else:
        await points.refund(
            order_number=order.number, now=now, reason=f"Refund of cancelled order {order.number}"
        )
    if order.warehouse_id is not None:
        await stock.release(warehouse_id=order.warehouse_id, quantities=await quantities(order))
    await assignment.give_back(order_id=order.id)
    await planner.release(order)
    await planner.unwatch(order)
    order.cancel_reason = reason[:200]
    refunded = {"cash": str(order.cash_total) if order.cash_total is not None else ""}
    await move(order, OrderStatus.CANCELLED, at=now, also=("cancel_reason",), details=refunded)
    await announce(ORDERS, order.number)


_DIGITAL = "status = 'CONFIRMED' AND warehouse_id IS NULL AND id IN ({ids})"
DIGITAL_DELIVERED = f"""UPDATE redemption_order SET status = 'DELIVERED', delivered_at = $1,
  updated_at = $1 WHERE {_DIGITAL} RETURNING number"""  # noqa: S608 (constants)
DIGITAL_CANCELLED = f"""UPDATE redemption_order SET status = 'CANCELLED', cancelled_at = $1,
  cancel_reason = $2, updated_at = $1 WHERE {_DIGITAL} RETURNING number"""  # noqa: S608


async def digital_settled(
    *, delivered: Sequence[int], cancelled: Sequence[int], reason: str, now: datetime
) -> None:
    """Orders with nothing to ship whose digital lines all ended, in the caller's transaction:
    `delivered` ones are DELIVERED, `cancelled` ones (every line refunded by its own module)
    CANCELLED with `reason`. Only a CONFIRMED order without a warehouse moves; its members
    were told line by line."""
    numbers = []
    if delivered:
        text = DIGITAL_DELIVERED.format(ids=sql.listed(len(delivered), first=2))
        numbers += [str(r["number"]) for r in await sql.fetch(text, now, *delivered)]
    if cancelled:
        text = DIGITAL_CANCELLED.format(ids=sql.listed(len(cancelled), first=3))
        rows = await sql.fetch(text, now, reason[:200], *cancelled)
        numbers += [str(r["number"]) for r in rows]
    await announce_many(ORDERS, numbers)


async def advance(*, number: str, to: OrderStatus, actor: Actor, now: datetime) -> Order:
    """A warehouse step (CONFIRMED -> PICKING -> PACKED); raises NotFound, InvalidTransition."""
    if actor.role is Role.MEMBER:
        raise NotFound(f"no order {number!r}", field="order_number")
    async with in_transaction():
        order = await locked_order(number=number, actor=actor)
        await move(order, to, at=now)
        await announce(ORDERS, order.number)
    return order


# The moment each status records, where it records one.
STAMPED = {
    OrderStatus.CONFIRMED: "confirmed_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


async def move(
    order: Order,
    to: OrderStatus,
    *,
    at: datetime,
    also: Sequence[str] = (),
    details: Mapping[str, Any] | None = None,
) -> None:
    """Move an order the caller has locked one step of the status machine, in the caller's
    transaction, recording when (`at`) where the status has a moment, and tell its member
    (`details`: what the message says besides the order, such as a tracking number);
    `also`: other fields of the order the caller set for this step. Raises
    InvalidTransition."""
    rules.check_move(order.status, to)
    order.status = to
    changed = ["status", "updated_at", *also]
    stamp = STAMPED.get(to)
    if stamp is not None:
        setattr(order, stamp, at)
        changed.append(stamp)
    await order.save(update_fields=changed)
    await outbox.order_moved(order, now=at, details=details or {})
