"""Redemption: one atomic step from a member's request to a placed order.

The first read (`intake`) finds the member, a replay of the key and the gifts; the planner
ranks the warehouses that can ship in time; `placement` writes the order with everything
that goes with it. Lock order, everywhere an order moves: the order row, then the member's
points account, then stock rows (by gift id), then the ship day. The redemption takes the
account first and the hot stock row as late as it can, so a popular gift's row is held
only briefly.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import validation
from models.catalog import stock
from models.errors import (
    CapacityExhausted,
    IdempotencyConflict,
    InsufficientPoints,
    OutOfStock,
    PaymentUnavailable,
)
from models.events import ORDER_NOTICE
from models.notifications import outbox
from models.notifications.models import NotificationKind
from models.notifications.outbox import ORDER_CONFIRMED
from models.orders import intake, placement, rules
from models.orders.models import Order, OrderLine, OrderStatus
from models.orders.placement import Draft
from models.orders.ports import (
    Booking,
    OrderEffect,
    PaymentRequest,
    PaymentStarter,
    ShipPlanner,
    StartedPayment,
)
from models.payments import settlement
from models.points import service as points
from models.points.reads import totals_by_member
from models.topups import placement as topups
from models.vouchers import assignment

# A top-up's promise unless the caller names another (DIGITAL_DELIVERY_MINUTES).
DIGITAL_WITHIN = timedelta(minutes=10)


@dataclass(frozen=True)
class RedeemRequest:
    idempotency_key: str
    lines: Sequence[rules.LineRequest]
    address: rules.Address


@dataclass(frozen=True)
class RedemptionResult:
    order: Order
    replayed: bool
    payment: StartedPayment | None = None
    lines: tuple[OrderLine, ...] = ()  # a new order's lines, as written (empty for a replay)


@dataclass(frozen=True)
class Collaborators:
    """What placing an order needs from outside `models/orders/`."""

    planner: ShipPlanner
    payments: PaymentStarter | None
    effects: tuple[OrderEffect, ...]
    digital_within: timedelta = DIGITAL_WITHIN


async def redeem(
    *,
    member_external_id: str,
    request: RedeemRequest,
    now: datetime,
    planner: ShipPlanner,
    payments: PaymentStarter | None = None,
    currency: str = "CNY",
    effects: Sequence[OrderEffect] = (),
    digital_within: timedelta = DIGITAL_WITHIN,
) -> RedemptionResult:
    """Place an order: points, stock and slot move together or not at all. `effects`: writes
    that go with every order placed, besides its deadlines, its change notice and its
    member's message; `digital_within`: the promise of its top-ups.

    Raises InvalidInput, NotFound, GiftInactive, LimitExceeded, OutOfStock,
    CapacityExhausted, InsufficientPoints, IdempotencyConflict, PaymentUnavailable or
    BudgetSpent.
    """
    key = validation.identifier(request.idempotency_key, field="idempotency_key", max_length=128)
    lines = rules.validate_lines(request.lines)
    address = rules.validate_address(request.address)
    fingerprint = rules.fingerprint(lines)
    outside = Collaborators(
        planner, payments, (ORDER_NOTICE, ORDER_CONFIRMED, *effects), digital_within
    )
    async with placing_gate():
        draft: Draft | None = None
        try:
            # A points-only order is placed in the transaction that reads its member, gifts
            # and plan: one pool connection and one BEGIN for the whole order. The first
            # read takes the member's account lock; the order's hot rows come last.
            async with in_transaction():
                read = await intake.intake(
                    external_id=member_external_id, key=key, fingerprint=fingerprint, lines=lines
                )
                if read.replay is not None:
                    return await _replayed(read.replay)
                cash = rules.cash_total(read.gifts, lines)
                if cash is not None and payments is None:
                    raise PaymentUnavailable(
                        "points plus cash payments are not available right now"
                    )
                rules.check_kinds(lines, read.gifts, cash=cash, mobile=read.member.mobile)
                draft = Draft(
                    read.member, key, fingerprint, lines, address, read.gifts, cash, currency, now
                )
                if cash is None:
                    plans = await _plans(draft, planner)
                    number = rules.new_order_number(draft.now)
                    return await _locked_and_placed(
                        draft, number, plans, outside, account_locked=read.account_locked
                    )
        except (IntegrityError, _NumberTaken):
            if draft is None:
                raise
            twin = await _twin(draft)
            if twin is not None:
                return twin
        assert draft is not None
        if draft.cash is None:
            return await _attempts(draft, outside, tried=1)
    # Points plus cash: Stripe is asked for the payment outside the gate (a network wait must
    # not hold back other members' redemptions); the transaction passes the gate again.
    return await _attempts(draft, outside)


async def _attempts(draft: Draft, outside: Collaborators, *, tried: int = 0) -> RedemptionResult:
    for attempt in range(tried + 1, NUMBER_ATTEMPTS + 1):
        try:
            return await _place(draft, outside)
        except (IntegrityError, _NumberTaken):
            # A twin request with this key committed first, or the number drawn is taken
            # (six random characters a day: rare, but a campaign day draws a few). Everything
            # rolled back (a payment started for it is abandoned): answer with the twin's
            # order, or draw again.
            twin = await _twin(draft)
            if twin is not None:
                return twin
            if attempt == NUMBER_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _twin(draft: Draft) -> RedemptionResult | None:
    """The order a twin request with this key placed meanwhile, if any."""
    first = await intake.replay(
        member_id=draft.member.id, key=draft.key, fingerprint=draft.fingerprint
    )
    return None if first is None else await _replayed(first)


async def _replayed(first: Order) -> RedemptionResult:
    return RedemptionResult(first, replayed=True, payment=await settlement.started_payment(first))


NUMBER_ATTEMPTS = 3

# Redemptions of one process at work on the database at once. Past a handful, more only
# queue on the same hot rows (a campaign gift's stock, the day's ship slots) and for pool
# connections, and every wait lengthens how long the hot rows stay locked; the rest wait
# here holding nothing. A points-plus-cash order leaves the gate while Stripe answers.
# The width was measured (benchmarks/PROFILES.md).
PLACING_AT_ONCE = 8
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def placing_gate() -> asyncio.Semaphore:
    """The gate of the running event loop (a semaphore belongs to one loop)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(PLACING_AT_ONCE)
    return gate


class _NumberTaken(Exception):
    """The order number drawn belongs to an earlier order."""


async def _place(draft: Draft, outside: Collaborators) -> RedemptionResult:
    number = rules.new_order_number(draft.now)
    if draft.cash is None:  # the caller holds the gate
        return await _transact(draft, number, outside)
    payments = outside.payments
    assert payments is not None
    payment = await _start_payment(draft, number, payments)
    try:
        async with placing_gate():
            return await _transact(draft, number, outside, payment=payment)
    except Exception:
        await payments.abandon(payment.intent_id)
        raise


async def _transact(
    draft: Draft, number: str, outside: Collaborators, *, payment: StartedPayment | None = None
) -> RedemptionResult:
    # Where the order could ship is read before any lock: reserving the units and booking
    # the slot are conditional updates, so a stale plan costs a retry in the next
    # warehouse, never an oversell.
    plans = await _plans(draft, outside.planner)
    async with in_transaction():
        return await _locked_and_placed(draft, number, plans, outside, payment=payment)


async def _locked_and_placed(
    draft: Draft,
    number: str,
    plans: list[Booking],
    outside: Collaborators,
    *,
    payment: StartedPayment | None = None,
    account_locked: bool = False,
) -> RedemptionResult:
    """The order's locked part, in the caller's transaction: points, order, units, slot.

    `account_locked`: the transaction already holds the member's account lock."""
    # A twin request with this key that committed meanwhile is found by the order's
    # unique (member, key): the insert fails, everything rolls back, `_attempts` replays.
    if not account_locked:
        await points.lock_account(member_id=draft.member.id)
    await _check_limits(draft)
    try:
        debit = await _take_points(draft, number)
    except IdempotencyConflict as exc:  # the points ledger knows this number already
        raise _NumberTaken(number) from exc
    written = await placement.write(
        draft,
        number,
        plans[0] if plans else None,
        payment=payment,
        planner=outside.planner,
        debit=debit,
        effects=outside.effects,
    )
    if payment is not None:
        await settlement.record(order=written.order, started=payment)
    if draft.vouchers:
        await _assign_codes(draft, written)
    if draft.top_ups:
        wanted = set(draft.top_ups)
        await topups.take(
            order=written.order,
            lines=[line for line in written.lines if line.gift_id in wanted],
            gifts=draft.gifts,
            msisdn=draft.member.mobile,
            now=draft.now,
            within=outside.digital_within,
        )
    if plans:
        booking = await placement.reserve_and_book(
            draft, plans, outside.planner, first=written.first
        )
        if (booking.warehouse.id, booking.day) != (plans[0].warehouse.id, plans[0].day):
            await placement.rebook(written.order, booking)
    return RedemptionResult(
        written.order, replayed=False, payment=payment, lines=tuple(written.lines)
    )


async def _assign_codes(draft: Draft, written: placement.Written) -> None:
    """One code to each e-voucher line, and its member told; raises OutOfStock (rolling the
    order back) when a pool ran out meanwhile."""
    wanted = set(draft.vouchers)
    lines = [line for line in written.lines if line.gift_id in wanted]
    expiries = await assignment.assign(
        lines=[(line.id, line.gift_id) for line in lines], now=draft.now
    )
    if expiries is None:
        raise OutOfStock("the e-voucher's codes ran out while ordering", field="lines")
    order = written.order
    ready = outbox.order_key(order.number, NotificationKind.VOUCHER_READY)
    for line, expires_at in zip(lines, expiries, strict=True):
        await outbox.notify(
            kind=NotificationKind.VOUCHER_READY,
            member_id=order.member_id,
            dedupe_key=f"{ready}:{line.id}",
            data=outbox.order_data(
                order,
                partner=draft.gifts[line.sku].partner,
                expires_on=expires_at.date().isoformat(),
            ),
            now=draft.now,
            order_id=order.id,
        )


async def _take_points(draft: Draft, number: str) -> points.Debit | None:
    """Plan the debit of a points-only order (`placement.write` writes it with the order);
    hold the points of an order awaiting payment."""
    if draft.cash is None:
        # A number taken by an earlier order fails the order's insert (unique number) and
        # the whole transaction with it: `redeem` draws again.
        return await points.plan_spend_for_order(
            member_id=draft.member.id,
            amount=draft.points,
            order_number=number,
            reason=f"Redeemed order {number}",
            now=draft.now,
        )
    await points.hold(
        member_id=draft.member.id, amount=draft.points, order_number=number, now=draft.now
    )
    return None


async def _precheck_cash_order(draft: Draft) -> None:
    """Refuse what would surely fail before asking Stripe for a payment (no locks taken).

    The transaction checks everything again under its locks; this only spares Stripe an
    intent for an order that has no stock or no points behind it.
    """
    await _check_limits(draft)
    if not await stock.offers(draft.quantities):
        raise OutOfStock("no warehouse has every line of this order in stock", field="lines")
    available = (await totals_by_member([draft.member.id]))[0].available
    if available < draft.points:
        raise InsufficientPoints(available=available, required=draft.points)


async def _check_limits(draft: Draft) -> None:
    limited = [g.id for g in draft.gifts.values() if g.limit_per_member is not None]
    if limited:
        taken = await _units_taken(draft.member.id, limited)
        rules.check_limits(draft.lines, draft.gifts, taken)


async def _units_taken(member_id: int, gift_ids: list[int]) -> dict[int, int]:
    rows = (
        await OrderLine.filter(order__member_id=member_id, gift_id__in=gift_ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values_list("gift_id", "quantity")
    )
    taken: dict[int, int] = {}
    for gift_id, quantity in rows:
        taken[gift_id] = taken.get(gift_id, 0) + int(quantity)
    return taken


async def _plans(draft: Draft, planner: ShipPlanner) -> list[Booking]:
    """The warehouses and days the order's parcels could ship on, best first (none for an
    order with nothing to ship)."""
    if draft.digital_only:
        return []
    plans = await planner.plan(draft.quantities, now=draft.now)
    if plans is None:
        raise OutOfStock("no warehouse has every line of this order in stock", field="lines")
    if not plans:
        raise CapacityExhausted(
            "no warehouse holding these gifts can ship them within the promise", field="lines"
        )
    return plans


async def _start_payment(draft: Draft, number: str, payments: PaymentStarter) -> StartedPayment:
    """Create the payment before any lock is taken: no network wait inside a transaction."""
    assert draft.cash is not None
    await _precheck_cash_order(draft)
    return await payments.start(
        PaymentRequest(
            idempotency_key=f"payment_intent:{number}",
            order_number=number,
            member_external_id=draft.member.external_id,
            amount=draft.cash,
            currency=draft.currency,
        )
    )
