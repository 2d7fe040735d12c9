"""Redemption: one atomic step from a member's request to a placed order, and cancellation.

Lock order, everywhere an order moves: the order row, then the member's points account,
then stock rows (by gift id), then the ship day. The redemption takes the account first
and the hot stock row as late as it can, so a popular gift's row is held only briefly.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import sql, validation
from models.catalog import stock
from models.catalog.models import Gift
from models.errors import (
    CapacityExhausted,
    DomainError,
    GiftInactive,
    IdempotencyConflict,
    InsufficientPoints,
    LimitExceeded,
    NotFound,
    OutOfStock,
    PaymentUnavailable,
)
from models.events import ORDERS, announce, touched
from models.members.models import Member
from models.members.service import ensure_member
from models.orders import rules
from models.orders.models import Order, OrderLine, OrderStatus
from models.orders.ports import Booking, PaymentRequest, PaymentStarter, ShipPlanner, StartedPayment
from models.payments import settlement
from models.points import service as points
from models.points.reads import totals_by_member


@dataclass(frozen=True)
class RedeemRequest:
    idempotency_key: str
    lines: Sequence[rules.LineRequest]
    address: rules.Address


@dataclass(frozen=True)
class Placed:
    order: Order
    replayed: bool
    payment: StartedPayment | None = None
    lines: tuple[OrderLine, ...] = ()  # a new order's lines, as written (empty for a replay)


async def redeem(
    *,
    member_external_id: str,
    request: RedeemRequest,
    now: datetime,
    planner: ShipPlanner,
    payments: PaymentStarter | None = None,
    currency: str = "CNY",
) -> Placed:
    """Place an order: points, stock and slot move together or not at all.

    Raises InvalidInput, NotFound, GiftInactive, LimitExceeded, OutOfStock,
    CapacityExhausted, InsufficientPoints, IdempotencyConflict or PaymentUnavailable.
    """
    key = validation.identifier(request.idempotency_key, field="idempotency_key", max_length=128)
    lines = rules.validate_lines(request.lines)
    address = rules.validate_address(request.address)
    fingerprint = rules.fingerprint(lines)
    async with placing_gate():
        draft: _Draft | None = None
        try:
            # A points-only order is placed in the transaction that reads its member, gifts
            # and plan: one pool connection and one BEGIN for the whole order. The first
            # read takes the member's account lock; the order's hot rows come last.
            async with in_transaction():
                read = await _member_replay_and_gifts(member_external_id, key, fingerprint, lines)
                if read.replay is not None:
                    return await _replayed(read.replay)
                cash = _cash_total(read.gifts, lines)
                if cash is not None and payments is None:
                    raise PaymentUnavailable(
                        "points plus cash payments are not available right now"
                    )
                draft = _Draft(
                    read.member, key, fingerprint, lines, address, read.gifts, cash, currency, now
                )
                if cash is None:
                    plans = await _plans(draft, planner)
                    number = rules.new_order_number(draft.now)
                    return await _locked_and_placed(
                        draft, number, plans, planner=planner, account_locked=read.account_locked
                    )
        except (IntegrityError, _NumberTaken):
            if draft is None:
                raise
            twin = await _twin(draft)
            if twin is not None:
                return twin
        assert draft is not None
        if draft.cash is None:
            return await _attempts(draft, planner=planner, payments=payments, tried=1)
    # Points plus cash: Stripe is asked for the payment outside the gate (a network wait must
    # not hold back other members' redemptions); the transaction passes the gate again.
    return await _attempts(draft, planner=planner, payments=payments)


async def _attempts(
    draft: _Draft, *, planner: ShipPlanner, payments: PaymentStarter | None, tried: int = 0
) -> Placed:
    for attempt in range(tried + 1, NUMBER_ATTEMPTS + 1):
        try:
            return await _place(draft, planner=planner, payments=payments)
        except (IntegrityError, _NumberTaken):
            # A twin request with this key committed first, or the number drawn is taken
            # (six random characters a day: rare, but a campaign day of 100k orders draws a
            # few). Everything rolled back (a payment started for it is abandoned): answer
            # with the twin's order, or draw again.
            twin = await _twin(draft)
            if twin is not None:
                return twin
            if attempt == NUMBER_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _twin(draft: _Draft) -> Placed | None:
    """The order a twin request with this key placed meanwhile, if any."""
    first = await _replay(draft.member.id, draft.key, draft.fingerprint)
    return None if first is None else await _replayed(first)


async def _replayed(first: Order) -> Placed:
    return Placed(first, replayed=True, payment=await settlement.started_payment(first))


NUMBER_ATTEMPTS = 3

# Redemptions of one process at work on the database at once. Past a handful, more only
# queue on the same hot rows (a campaign gift's stock, the day's ship slots) and for pool
# connections, and every wait lengthens how long the hot rows stay locked; the rest wait
# here holding nothing. A points-plus-cash order leaves the gate while Stripe answers.
# Measured at 64 clients on one hot gift: +10-15 % orders/s and a p99 40 % lower than
# without the gate (benchmarks/PROFILES.md).
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


@dataclass(frozen=True)
class _Draft:
    member: Member
    key: str
    fingerprint: str
    lines: list[rules.LineRequest]
    address: rules.Address
    gifts: dict[str, Gift]
    cash: Decimal | None
    currency: str
    now: datetime

    @property
    def quantities(self) -> dict[int, int]:
        return {self.gifts[line.sku].id: line.quantity for line in self.lines}

    @property
    def points(self) -> int:
        return sum(int(self.gifts[line.sku].points_price) * line.quantity for line in self.lines)


async def _place(draft: _Draft, *, planner: ShipPlanner, payments: PaymentStarter | None) -> Placed:
    number = rules.new_order_number(draft.now)
    if draft.cash is None:  # the caller holds the gate
        return await _transact(draft, number, planner=planner)
    payment = await _start_payment(draft, number, payments)
    assert payments is not None
    try:
        async with placing_gate():
            return await _transact(draft, number, planner=planner, payment=payment)
    except Exception:
        await payments.abandon(payment.intent_id)
        raise


async def _transact(
    draft: _Draft,
    number: str,
    *,
    planner: ShipPlanner,
    payment: StartedPayment | None = None,
) -> Placed:
    # Where the order could ship is read before any lock: reserving the units and booking
    # the slot are conditional updates, so a stale plan costs a retry in the next
    # warehouse, never an oversell.
    plans = await _plans(draft, planner)
    async with in_transaction():
        return await _locked_and_placed(draft, number, plans, planner=planner, payment=payment)


async def _locked_and_placed(
    draft: _Draft,
    number: str,
    plans: list[Booking],
    *,
    planner: ShipPlanner,
    payment: StartedPayment | None = None,
    account_locked: bool = False,
) -> Placed:
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
    # The rows every order of a hot gift wants come last, so each is held only for its
    # update and the commit (on PostgreSQL a one-gift order takes them as the order's
    # statement ends).
    order, lines, first = await _write(draft, number, plans[0], payment, planner, debit)
    if payment is not None:
        await settlement.record(order=order, started=payment)
    booking = await _reserve_and_book(draft, plans, planner, first=first)
    if (booking.warehouse.id, booking.day) != (plans[0].warehouse.id, plans[0].day):
        await _rebook(order, booking)
    return Placed(order, replayed=False, payment=payment, lines=tuple(lines))


async def _take_points(draft: _Draft, number: str) -> points.Debit | None:
    """Plan the debit of a points-only order (`_write` writes it with the order); hold the
    points of an order awaiting payment."""
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


async def _precheck_cash_order(draft: _Draft) -> None:
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


# The member with their points account locked, an order already placed with this key, and
# the order's gifts: one read (the gifts' columns named `gift.<column>`, one row per gift
# found). `account_id` is null when the member has no account yet: `lock_account` creates
# it. On PostgreSQL the account is locked here, in the order's first statement, rather
# than in a statement of its own: the lock is the member's (only the same member's
# requests queue on it), and the order's hot rows are still taken last. A request that
# waited here for a twin sees the twin's order only in its next statement; the order's
# unique (member, key) catches it then. On SQLite the transaction already holds the
# database's write lock (BEGIN IMMEDIATE).
#
# On PostgreSQL locking the account also switches the rest of the order's transaction to
# generic plans (`set_config(..., true)` lasts until the transaction ends; a member without
# an account yet is locked by `lock_account` and keeps the custom plans). The order's own
# statement (eleven CTEs over nine tables, 43 parameters) always looks cheaper with a
# custom plan, so PostgreSQL would plan it afresh for every order: a third to a half of its
# CPU per order (benchmarks/PROFILES.md §15). Every statement after this one finds its rows
# by key, so the generic plan is the same plan.
MEMBER_REPLAY_AND_GIFTS = """
{locked}
SELECT m.*, {account} AS account_id, o.id AS replay_id,
       o.request_fingerprint AS replay_fingerprint, {gift_columns}
FROM member m
LEFT JOIN redemption_order o ON o.member_id = m.id AND o.idempotency_key = $2
LEFT JOIN gift g ON g.sku IN ({skus})
WHERE m.external_id = $1
"""
LOCKED_ACCOUNT = """WITH locked AS (
    SELECT a.id, set_config('plan_cache_mode', 'force_generic_plan', true)
    FROM points_account a JOIN member am ON am.id = a.member_id
    WHERE am.external_id = $1 FOR UPDATE OF a
)"""
GIFT_COLUMN = "gift."


@lru_cache(maxsize=32)
def _member_replay_and_gifts_text(skus: int, *, postgres: bool) -> str:
    columns = Gift._meta.fields_db_projection.values()  # complete once Tortoise is set up
    return MEMBER_REPLAY_AND_GIFTS.format(
        locked=LOCKED_ACCOUNT if postgres else "",
        account=(
            "(SELECT id FROM locked)"
            if postgres
            else "(SELECT a.id FROM points_account a WHERE a.member_id = m.id)"
        ),
        gift_columns=", ".join(f'g.{c} AS "{GIFT_COLUMN}{c}"' for c in columns),
        skus=sql.listed(skus, first=3),
    )


@dataclass(frozen=True)
class _FirstRead:
    member: Member
    replay: Order | None
    gifts: dict[str, Gift]
    account_locked: bool


async def _member_replay_and_gifts(
    external_id: str, key: str, fingerprint: str, lines: Sequence[rules.LineRequest]
) -> _FirstRead:
    """The member (created on first sight) with their account locked if they have one, the
    order already placed with this key, and the gifts of the lines (refused with NotFound
    or GiftInactive as `_gifts` says)."""
    skus = sorted({line.sku for line in lines})
    text = _member_replay_and_gifts_text(len(skus), postgres=sql.on_postgres())
    rows = await sql.fetch(text, external_id, key, *skus)
    if not rows:  # a new member has no orders yet, nor an account
        member = await ensure_member(external_id=external_id)
        return _FirstRead(member, None, await _gifts(lines), account_locked=False)
    row = rows[0]
    member = sql.model(Member, row)
    locked = row["account_id"] is not None
    if row["replay_id"] is not None:
        if row["replay_fingerprint"] != fingerprint:
            raise _conflict()
        return _FirstRead(member, await Order.get(id=row["replay_id"]), {}, locked)
    found = [
        sql.model(
            Gift, {k[len(GIFT_COLUMN) :]: v for k, v in r.items() if k.startswith(GIFT_COLUMN)}
        )
        for r in rows
        if r[f"{GIFT_COLUMN}id"] is not None
    ]
    return _FirstRead(member, None, _checked_gifts(lines, found), locked)


def _conflict() -> IdempotencyConflict:
    return IdempotencyConflict(
        "this idempotencyKey was used for different lines", field="idempotency_key"
    )


REPLAY = """
SELECT id, request_fingerprint FROM redemption_order WHERE member_id = $1 AND idempotency_key = $2
"""


async def _replay(member_id: int, key: str, fingerprint: str) -> Order | None:
    found = await sql.fetch_one(REPLAY, member_id, key)
    if found is None:
        return None
    if found["request_fingerprint"] != fingerprint:
        raise _conflict()
    return await Order.get(id=found["id"])


GIFTS = "SELECT * FROM gift WHERE sku IN ({skus})"


async def _gifts(lines: Sequence[rules.LineRequest]) -> dict[str, Gift]:
    skus = [line.sku for line in lines]
    rows = await sql.fetch(GIFTS.format(skus=sql.listed(len(skus))), *skus)
    return _checked_gifts(lines, [sql.model(Gift, row) for row in rows])


def _checked_gifts(lines: Sequence[rules.LineRequest], found: Sequence[Gift]) -> dict[str, Gift]:
    """The lines' gifts by SKU; raises NotFound or GiftInactive for the first line without."""
    gifts = {g.sku: g for g in found}
    for index, line in enumerate(lines):
        gift = gifts.get(line.sku)
        if gift is None:
            raise NotFound(f"no gift {line.sku!r}", field=f"lines.{index}.sku")
        if not gift.active:
            raise GiftInactive(f"{line.sku} is no longer offered", field=f"lines.{index}.sku")
    return gifts


def _cash_total(gifts: dict[str, Gift], lines: Sequence[rules.LineRequest]) -> Decimal | None:
    parts = [gifts[line.sku].cash_price for line in lines]
    if all(p is None for p in parts):
        return None
    return sum(
        ((p or Decimal(0)) * line.quantity for p, line in zip(parts, lines, strict=True)),
        Decimal(0),
    )


async def _check_limits(draft: _Draft) -> None:
    limited = {g.id: g for g in draft.gifts.values() if g.limit_per_member is not None}
    if not limited:
        return
    taken = await _units_taken(draft.member.id, list(limited))
    for index, line in enumerate(draft.lines):
        gift = draft.gifts[line.sku]
        if gift.id in limited and taken.get(gift.id, 0) + line.quantity > (
            gift.limit_per_member or 0
        ):
            raise LimitExceeded(
                f"{gift.sku} is limited to {gift.limit_per_member} per member",
                field=f"lines.{index}.quantity",
            )


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


async def _plans(draft: _Draft, planner: ShipPlanner) -> list[Booking]:
    plans = await planner.plan(draft.quantities, now=draft.now)
    if plans is None:
        raise OutOfStock("no warehouse has every line of this order in stock", field="lines")
    if not plans:
        raise CapacityExhausted(
            "no warehouse holding these gifts can ship them within the promise", field="lines"
        )
    return plans


REBOOK = "UPDATE redemption_order SET warehouse_id = $2, promised_ship_date = $3 WHERE id = $1"


async def _rebook(order: Order, booking: Booking) -> None:
    """The slot planned for the order was gone: it ships from where it found room."""
    await sql.execute(REBOOK, order.id, booking.warehouse.id, booking.day)
    order.warehouse_id, order.promised_ship_date = booking.warehouse.id, booking.day


# An order of one gift on PostgreSQL (a campaign's orders): its units and the planned ship
# day in one statement, the stock row locked first (the lock order), the day only if the
# units were there. The two rows every order of a hot gift wants are then held for one
# round trip and the commit. The day is the fulfilment planner's (`fulfilment.planning`
# books it the same way, by a conditional increment); a day filled meanwhile falls back to
# the planner's own booking.
def _reserve_and_book_steps(
    *, gift: str, warehouse: str, units: str, at: str, day: str, capacity: str
) -> str:
    """The two steps as CTEs `reserved` and `booked`, over the placeholders named."""
    return f"""reserved AS (
    UPDATE stock SET reserved = reserved + {units}, updated_at = {at}
    WHERE gift_id = {gift} AND warehouse_id = {warehouse} AND on_hand >= reserved + {units}
    RETURNING 1
), booked AS (
    UPDATE ship_day SET booked = booked + 1
    WHERE warehouse_id = {warehouse} AND day = {day} AND booked < {capacity}
      AND EXISTS (SELECT 1 FROM reserved)
    RETURNING 1
)"""  # noqa: S608 (placeholder names, never values)


RESERVE_AND_BOOK_OUTCOME = (
    "EXISTS (SELECT 1 FROM reserved) AS reserved, EXISTS (SELECT 1 FROM booked) AS booked"
)
_RESERVE_AND_BOOK_STEPS = _reserve_and_book_steps(
    gift="$1", warehouse="$2", units="$3", at="$4", day="$5", capacity="$6"
)
RESERVE_AND_BOOK = f"""
WITH {_RESERVE_AND_BOOK_STEPS}
SELECT {RESERVE_AND_BOOK_OUTCOME}
"""


@dataclass(frozen=True)
class _Outcome:
    """What reserving the units and booking the planned day in one warehouse did."""

    reserved: bool
    booked: bool


async def _reserve_and_book(
    draft: _Draft, plans: list[Booking], planner: ShipPlanner, *, first: _Outcome | None = None
) -> Booking:
    """Reserve the units and a slot in the best warehouse that still has both.

    Runs in the order's transaction: a warehouse whose slots are full gets its units back at
    once, so nothing is left taken in a warehouse the order does not ship from. `first`:
    what the order's own statement already did in the first plan's warehouse.
    """
    refusal: DomainError = OutOfStock("sold out while ordering", field="lines")
    quantities = draft.quantities
    one_line = sql.on_postgres() and len(quantities) == 1
    for index, plan in enumerate(plans):
        warehouse_id = plan.warehouse.id
        if index == 0 and first is not None:
            reserved, booked = first.reserved, first.booked
            if booked:
                return plan
        elif one_line:
            [(gift_id, quantity)] = quantities.items()
            row = await sql.fetch_one(
                RESERVE_AND_BOOK,
                gift_id,
                warehouse_id,
                quantity,
                datetime.now(UTC),
                plan.day,
                plan.warehouse.daily_capacity,
            )
            assert row is not None
            reserved, booked = bool(row["reserved"]), bool(row["booked"])
            if booked:
                return plan
        else:
            reserved = await stock.reserve(warehouse_id=warehouse_id, quantities=quantities)
        if not reserved:
            refusal = OutOfStock("sold out while ordering", field="lines")
            continue
        booking = await planner.book(plan.warehouse, now=draft.now)
        if booking is None:
            await stock.release(warehouse_id=warehouse_id, quantities=draft.quantities)
            refusal = CapacityExhausted("ship slots filled up", field="lines")
            continue
        return booking
    raise refusal


async def _start_payment(
    draft: _Draft, number: str, payments: PaymentStarter | None
) -> StartedPayment:
    """Create the payment before any lock is taken: no network wait inside a transaction."""
    assert payments is not None
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


INSERT_ORDER = """
INSERT INTO redemption_order (
    number, member_id, status, idempotency_key, request_fingerprint, warehouse_id,
    points_total, cash_total, currency, placed_at, confirmed_at, ship_by, promised_ship_date,
    cancel_reason, recipient, phone, province, city, district, line1, line2, postal_code,
    updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '', $14, $15, $16, $17, $18,
        $19, $20, $21, $22)
RETURNING id, number
"""
INSERT_LINES = (
    "INSERT INTO order_line (order_id, gift_id, sku, name, quantity, points_each, cash_each)"
)
# On PostgreSQL the order, its lines, the deadlines the fulfilment planner watches
# (`ShipPlanner.deadlines`, none for an order awaiting payment) and the change notice
# (`models.events.announce`) are one statement. Lines are numbered in the order given.
_PLACE_POSTGRES_STEPS = f"""
WITH placed AS ({INSERT_ORDER}
), lines AS (
    {INSERT_LINES}
    SELECT placed.id, l.gift_id, l.sku, l.name, l.quantity, l.points_each, l.cash_each
    FROM placed, unnest($23::bigint[], $24::text[], $25::text[], $26::int[], $27::bigint[],
                        $28::numeric[]) WITH ORDINALITY
         AS l(gift_id, sku, name, quantity, points_each, cash_each, n)
    ORDER BY l.n
    RETURNING id
), watched AS (
    INSERT INTO fulfilment_deadline (order_id, kind, due_at)
    SELECT placed.id, d.kind, d.due_at
    FROM placed, unnest($29::text[], $30::timestamptz[]) AS d(kind, due_at)
    ON CONFLICT DO NOTHING
), told AS (
    SELECT pg_notify($31, placed.number) FROM placed
)"""  # noqa: S608 (built from the constants above)


# An order of one gift (a campaign's orders) also reserves its units ($32: gift, $33:
# units) and books its planned day ($6: warehouse, $13: day, $34: the day's capacity) in the
# same statement: `RESERVE_AND_BOOK`'s two steps, the stock row first, the day only if
# the units were there. A points-only order also writes its debit, planned under the
# account lock (`points.debit_steps`, its placeholders after all of these).
def _place_postgres(*, reserve: bool, debit: bool) -> str:
    steps, outcome, after = _PLACE_POSTGRES_STEPS, "", 31
    if reserve:
        steps += ", " + _reserve_and_book_steps(
            gift="$32", warehouse="$6", units="$33", at="$22", day="$13", capacity="$34"
        )
        outcome, after = f", {RESERVE_AND_BOOK_OUTCOME}", 34
    if debit:
        steps += ", " + points.debit_steps(after + 1)
    return f"""{steps}
SELECT placed.id, array(SELECT id FROM lines ORDER BY id) AS line_ids{outcome}
FROM placed, told
"""  # noqa: S608 (built from the constants above)


PLACE_POSTGRES = {
    (reserve, debit): _place_postgres(reserve=reserve, debit=debit)
    for reserve in (False, True)
    for debit in (False, True)
}


async def _write(
    draft: _Draft,
    number: str,
    booking: Booking,
    payment: StartedPayment | None,
    planner: ShipPlanner,
    debit: points.Debit | None,
) -> tuple[Order, list[OrderLine], _Outcome | None]:
    """Write the order's debit (if any), the order and its lines, start watching its
    deadlines, announce it.

    On PostgreSQL that is one statement, and an order of one gift also tries to reserve its
    units and book the planned day in it: what that did comes back (None when not tried).
    """
    confirmed = payment is None
    address = draft.address
    fields = {
        "number": number,
        "member_id": draft.member.id,
        "status": OrderStatus.CONFIRMED if confirmed else OrderStatus.AWAITING_PAYMENT,
        "idempotency_key": draft.key,
        "request_fingerprint": draft.fingerprint,
        "warehouse_id": booking.warehouse.id,
        "points_total": draft.points,
        "cash_total": draft.cash,
        "currency": draft.currency,
        "placed_at": draft.now,
        "confirmed_at": draft.now if confirmed else None,
        "ship_by": booking.deadline if confirmed else None,
        "promised_ship_date": booking.day,
        "recipient": address.recipient,
        "phone": address.phone,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "line1": address.line1,
        "line2": address.line2,
        "postal_code": address.postal_code,
        "updated_at": datetime.now(UTC),
    }
    params = [v.value if isinstance(v, OrderStatus) else v for v in fields.values()]
    rows = [
        (
            draft.gifts[line.sku].id,
            line.sku,
            draft.gifts[line.sku].name,
            line.quantity,
            draft.gifts[line.sku].points_price,
            draft.gifts[line.sku].cash_price,
        )
        for line in draft.lines
    ]
    deadlines = planner.deadlines(booking.deadline) if confirmed else []
    on_postgres = sql.on_postgres()
    outcome: _Outcome | None = None
    if on_postgres:
        columns = [list(column) for column in zip(*rows, strict=True)]
        watch = [list(column) for column in zip(*deadlines, strict=True)] or [[], []]
        reserve = len(rows) == 1
        extra: list[Any] = []
        if reserve:
            extra = [rows[0][0], rows[0][3], booking.warehouse.daily_capacity]
        if debit is not None:
            extra += debit.params()
        statement = PLACE_POSTGRES[reserve, debit is not None]
        placed = await sql.fetch(statement, *params, *columns, *watch, ORDERS, *extra)
        if reserve:
            outcome = _Outcome(bool(placed[0]["reserved"]), bool(placed[0]["booked"]))
        order_id, line_ids = int(placed[0]["id"]), [int(i) for i in placed[0]["line_ids"]]
        touched(ORDERS, number)
    else:
        if debit is not None:
            await points.write_debit(debit)
        order_id = int((await sql.fetch(INSERT_ORDER, *params))[0]["id"])
        written = await sql.insert(INSERT_LINES, [(order_id, *row) for row in rows], returning="id")
        line_ids = sorted(int(r["id"]) for r in written)  # one statement numbers rows in order
        await announce(ORDERS, number)
    order = Order.construct(
        _saved_in_db=True,
        id=order_id,
        cancel_reason="",
        shipped_at=None,
        delivered_at=None,
        cancelled_at=None,
        **fields,
    )
    lines = [
        OrderLine.construct(
            _saved_in_db=True,
            id=line_id,
            order_id=order_id,
            gift_id=row[0],
            sku=row[1],
            name=row[2],
            quantity=row[3],
            points_each=row[4],
            cash_each=row[5],
        )
        for line_id, row in zip(line_ids, rows, strict=True)
    ]
    if confirmed and not on_postgres:
        await planner.watch(order, now=draft.now)
    return order, lines, outcome
