"""What must hold of the data whatever happened: checked after faults and after the soak.

`footprint` is everything a redemption writes, so a test can prove a failed one left no
trace; `broken_invariants` lists every stock, ship-day and hold rule that does not hold at
any quiet moment; `settlement_problems` (payments and compensations) and `money_problems`
(Stripe's records against the orders) hold once the sweeper has settled what it owes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from fulfilment.models import Alert, AlertKind, Deadline, ShipDay
from models.catalog.models import Stock, Warehouse
from models.orders.models import Order, OrderLine, OrderStatus
from models.payments.models import Payment, PaymentStatus
from models.points.models import (
    EntryKind,
    HoldStatus,
    LotDraw,
    PointsAccount,
    PointsEntry,
    PointsHold,
)

# Orders whose units are still in the warehouse: they hold a reservation.
UNSHIPPED = (
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
)
# Orders whose cash part must have been paid.
PAID = (*UNSHIPPED[1:], OrderStatus.SHIPPED, OrderStatus.DELIVERED)


@dataclass(frozen=True)
class Footprint:
    """Row counts and totals a redemption changes when it succeeds."""

    orders: int
    lines: int
    payments: int
    entries: int
    lot_draws: int
    holds: int
    deadlines: int
    held: int
    balance: int
    reserved: dict[tuple[int, int], int]
    booked: dict[tuple[int, str], int]


async def footprint() -> Footprint:
    accounts = await PointsAccount.all().values_list("balance", "held")
    stock = await Stock.all().values_list("warehouse_id", "gift_id", "reserved")
    days = await ShipDay.all().values_list("warehouse_id", "day", "booked")
    return Footprint(
        orders=await Order.all().count(),
        lines=await OrderLine.all().count(),
        payments=await Payment.all().count(),
        entries=await PointsEntry.all().count(),
        lot_draws=await LotDraw.all().count(),
        holds=await PointsHold.all().count(),
        deadlines=await Deadline.all().count(),
        held=sum(int(h) for _, h in accounts),
        balance=sum(int(b) for b, _ in accounts),
        reserved={(w, g): int(r) for w, g, r in stock},
        booked={(w, str(d)): int(b) for w, d, b in days if b},
    )


async def broken_invariants() -> list[str]:
    """Every stock, ship-day and hold rule that does not hold, described (empty: all good)."""
    return [*await _stock_problems(), *await _ship_day_problems(), *await _hold_problems()]


async def _stock_problems() -> list[str]:
    lines = await OrderLine.filter(order__status__in=UNSHIPPED).values_list(
        "order__warehouse_id", "gift_id", "quantity"
    )
    wanted: Counter[tuple[int, int]] = Counter()
    for warehouse_id, gift_id, quantity in lines:
        wanted[(warehouse_id, gift_id)] += int(quantity)
    problems = []
    for row in await Stock.all():
        key = (row.warehouse_id, row.gift_id)
        if row.on_hand < 0 or row.reserved < 0 or row.reserved > row.on_hand:
            problems.append(f"stock {key}: on hand {row.on_hand}, reserved {row.reserved}")
        if row.reserved != (held := wanted.pop(key, 0)):
            problems.append(
                f"stock {key}: reserved {row.reserved} but unshipped orders hold {held}"
            )
    problems += [f"stock {key}: no row, but orders hold {n}" for key, n in wanted.items() if n]
    return problems


async def _ship_day_problems() -> list[str]:
    capacity = dict(await Warehouse.all().values_list("id", "daily_capacity"))
    promised = await (
        Order.exclude(status=OrderStatus.CANCELLED)
        .filter(promised_ship_date__isnull=False)
        .values_list("warehouse_id", "promised_ship_date")
    )
    wanted: Counter[tuple[int, str]] = Counter((w, str(d)) for w, d in promised)
    problems = []
    for warehouse_id, day, booked in await ShipDay.all().values_list(
        "warehouse_id", "day", "booked"
    ):
        key = (warehouse_id, str(day))
        if booked < 0 or booked > capacity[warehouse_id]:
            problems.append(f"ship day {key}: {booked} booked, capacity {capacity[warehouse_id]}")
        if booked != (orders := wanted.pop(key, 0)):
            problems.append(f"ship day {key}: {booked} booked but {orders} orders promised")
    problems += [f"ship day {key}: no row, but {n} orders" for key, n in wanted.items() if n]
    return problems


async def _hold_problems() -> list[str]:
    open_holds = set(
        await PointsHold.filter(status=HoldStatus.OPEN).values_list("order_number", flat=True)
    )
    waiting = set(
        await Order.filter(status=OrderStatus.AWAITING_PAYMENT).values_list("number", flat=True)
    )
    stray = [
        f"hold open for order {n}, which is not awaiting payment" for n in open_holds - waiting
    ]
    return stray + [f"order {n} awaits payment without an open hold" for n in waiting - open_holds]


async def settlement_problems() -> list[str]:
    """Once the sweeper has settled: paid cash parts match their orders, breaches are credited.

    Between a cancellation and its refund, or a breach and its credit, these are briefly
    untrue by design (the sweeper retries); check them after a final sweeper pass.
    """
    problems = []
    for number, status, payment in await Order.filter(cash_total__isnull=False).values_list(
        "number", "status", "payment__status"
    ):
        if status == OrderStatus.CANCELLED and payment == PaymentStatus.SUCCEEDED:
            problems.append(f"order {number} was cancelled but its payment was not refunded")
        if status in PAID and payment != PaymentStatus.SUCCEEDED:
            problems.append(f"order {number} is {status} but its payment is {payment}")
    credited = set(
        await PointsEntry.filter(kind=EntryKind.COMPENSATION).values_list("order_number", flat=True)
    )
    for number, compensated_at in await Alert.filter(kind=AlertKind.BREACHED).values_list(
        "order__number", "compensated_at"
    ):
        if compensated_at is None or number not in credited:
            problems.append(f"breached order {number} was not compensated")
    return problems


async def money_problems(
    intents: dict[str, dict[str, Any]], refunds: dict[str, dict[str, Any]]
) -> list[str]:
    """Stripe's side agrees with the orders: money is kept for live orders only.

    `intents` and `refunds` are the Stripe test server's records. Taken money is kept for
    an order that is (or was) confirmed, and fully refunded for one that was cancelled; an
    order never placed, or still awaiting payment, has taken nothing.
    """
    back: Counter[str] = Counter()
    for refund in refunds.values():
        back[refund["payment_intent"]] += int(refund["amount"])
    statuses = dict(await Order.all().values_list("number", "status"))
    problems = []
    for intent in intents.values():
        number = intent["metadata"].get("order_number")
        status, taken = statuses.get(number), int(intent["amount_received"])
        kept = taken - back[intent["id"]]
        if status in PAID and (taken == 0 or kept != taken):
            problems.append(f"{status} order {number}: taken {taken}, kept {kept}")
        elif status not in PAID and kept != 0:
            problems.append(f"order {number} ({status or 'never placed'}) kept {kept} of {taken}")
    return problems
