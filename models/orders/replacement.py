"""A replacement: a new order for gifts a member already has, at zero points, placed through
the redemption's own machinery.

The units are reserved and the ship slot booked exactly as for a redemption
(`placement.write` and `placement.reserve_and_book`: conditional updates, so it never
oversells nor books a day past its capacity), under the same seven-day promise; without
stock or a slot in time it is refused with the same codes (`OUT_OF_STOCK`,
`CAPACITY_EXHAUSTED`) and nothing is taken. No points move and no cash is asked. It runs
in the caller's transaction (after-sales' resolution); its idempotency key, unique per
member like any order's, makes a retried resolution find the first replacement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.catalog.models import Gift
from models.errors import CapacityExhausted, OutOfStock
from models.events import ORDER_NOTICE
from models.members.models import Member
from models.orders import placement, rules
from models.orders.models import Order
from models.orders.placement import Draft
from models.orders.ports import Booking, OrderEffect, ShipPlanner

NUMBER_ATTEMPTS = 3


def address_of(order: Order) -> rules.Address:
    """Where the original order went: the replacement goes there too."""
    return rules.Address(
        order.recipient,
        order.phone,
        order.province,
        order.city,
        order.district,
        order.line1,
        order.line2,
        order.postal_code,
    )


async def place_replacement(
    *,
    original: Order,
    quantities: Mapping[str, int],
    key: str,
    now: datetime,
    planner: ShipPlanner,
    effects: Sequence[OrderEffect] = (),
) -> Order:
    """The replacement order of `quantities` (SKU: units) of the original's gifts, placed
    in the caller's transaction, or the one placed with `key` before; raises OutOfStock,
    CapacityExhausted."""
    earlier = await Order.get_or_none(member_id=original.member_id, idempotency_key=key)
    if earlier is not None:
        return earlier
    lines = [rules.LineRequest(sku, units) for sku, units in sorted(quantities.items())]
    gifts = {g.sku: g for g in await Gift.filter(sku__in=sorted(quantities))}
    member = await Member.get(id=original.member_id)
    draft = Draft(
        member,
        key,
        rules.fingerprint(lines),
        lines,
        address_of(original),
        gifts,
        None,
        original.currency,
        now,
        free=True,
    )
    plans = await planner.plan(draft.quantities, now=now)
    if plans is None:
        raise OutOfStock("no warehouse has these gifts in stock", field="lines")
    if not plans:
        raise CapacityExhausted(
            "no warehouse can ship these gifts within the promise", field="lines"
        )
    for attempt in range(1, NUMBER_ATTEMPTS + 1):
        try:
            async with in_transaction():  # a savepoint: a number drawn twice is drawn again
                return await _placed(draft, plans, planner, effects)
        except IntegrityError:
            if attempt == NUMBER_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _placed(
    draft: Draft, plans: list[Booking], planner: ShipPlanner, effects: Sequence[OrderEffect]
) -> Order:
    number = rules.new_order_number(draft.now)
    written = await placement.write(
        draft,
        number,
        plans[0],
        payment=None,
        planner=planner,
        debit=None,
        effects=(ORDER_NOTICE, *effects),
    )
    booking = await placement.reserve_and_book(draft, plans, planner, first=written.first)
    if (booking.warehouse.id, booking.day) != (plans[0].warehouse.id, plans[0].day):
        await placement.rebook(written.order, booking)
    return written.order
