"""Ledger writes for the services: the account lock, debits, holds, returns (credits are
written by `credits`).

`lock_account` takes the member's account lock; every other function here expects the
caller to hold it inside a transaction. Lots are only ever written under that lock, so they
need no lock of their own, and the lock order stays "account, then lots" everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import sql
from models.errors import NotFound
from models.points import rules
from models.points.models import EntryKind, LotDraw, PointsAccount, PointsLot

LOCK_ACCOUNT = "SELECT id FROM points_account WHERE member_id = $1 FOR UPDATE"


async def lock_account(*, member_id: int) -> None:
    """Lock (creating if needed) the member's account in the current transaction; raises NotFound."""  # noqa: E501
    if await sql.fetch(LOCK_ACCOUNT, member_id):
        return
    try:
        async with in_transaction():
            await PointsAccount.create(member_id=member_id)
    except IntegrityError:
        pass  # created concurrently (lock that one), or no such member
    if not await sql.fetch(LOCK_ACCOUNT, member_id):
        raise NotFound(f"no member with id {member_id}", field="member_id")


async def lock_accounts(*, member_ids: Sequence[int]) -> None:
    """Lock the existing accounts of several members, in member order, in the current transaction.

    A writer that credits many members in one transaction takes their locks this way first:
    with one lock order for all, two such writers queue instead of deadlocking.
    """
    # Whole rows: Tortoise drops FOR UPDATE from a `values_list` query.
    await (
        PointsAccount.select_for_update()
        .filter(member_id__in=sorted(set(member_ids)))
        .order_by("member_id")
    )


LIVE_LOTS = """
SELECT id, remaining, held, expires_at FROM points_lot
WHERE member_id = $1 AND expires_at > $2 AND NOT settled AND remaining > 0
"""


async def live_lots(*, member_id: int, now: datetime) -> list[rules.LotState]:
    """The member's lots that still hold points and have not expired at `now`."""
    rows = await sql.fetch(LIVE_LOTS, member_id, now)
    return [
        rules.LotState(r["id"], r["remaining"], r["held"], sql.moment(r["expires_at"]))
        for r in rows
    ]


MOVE_ACCOUNT = """
UPDATE points_account SET balance = balance + $2, held = held + $3, updated_at = $4
WHERE member_id = $1
"""


async def move_account(*, member_id: int, balance: int = 0, held: int = 0) -> None:
    await sql.execute(MOVE_ACCOUNT, member_id, balance, held, datetime.now(UTC))


async def add_lot(*, member_id: int, amount: int, expires_at: datetime, now: datetime) -> None:
    await PointsLot.create(
        member_id=member_id,
        amount=amount,
        remaining=amount,
        held=0,
        expires_at=expires_at,
        created_at=now,
    )


INSERT_DEBIT = """
INSERT INTO points_entry (member_id, kind, delta, reason, external_ref, order_number, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
"""
TAKE_FROM_LOT = "UPDATE points_lot SET remaining = remaining - $2 WHERE id = $1"
DEBIT_PLACEHOLDERS = 9


def debit_steps(first: int) -> str:
    """The four writes of a debit as CTEs, on PostgreSQL: the entry (`debit_entry`, which
    returns its id), what each lot gives, the draws that say so, and the balance.

    Their nine placeholders start at `$first`, in `Debit.params` order, so the steps can
    stand alone (`DEBIT_POSTGRES`) or join another statement of the same transaction.
    """
    member, kind, delta, reason, ref, order, at, lots, amounts = (
        f"${n}" for n in range(first, first + DEBIT_PLACEHOLDERS)
    )
    return f"""debit_plan AS (
    SELECT * FROM unnest({lots}::bigint[], {amounts}::bigint[]) AS p (lot_id, amount)
), debit_entry AS (
    INSERT INTO points_entry (member_id, kind, delta, reason, external_ref, order_number,
                              created_at)
    VALUES ({member}, {kind}, {delta}, {reason}, {ref}, {order}, {at}) RETURNING id
), debit_taken AS (
    UPDATE points_lot l SET remaining = l.remaining - p.amount
    FROM debit_plan p WHERE l.id = p.lot_id
), debit_drawn AS (
    INSERT INTO points_lot_draw (lot_id, entry_id, amount)
    SELECT p.lot_id, e.id, p.amount FROM debit_plan p, debit_entry e
), debit_moved AS (
    UPDATE points_account SET balance = balance + {delta}, updated_at = {at}
    WHERE member_id = {member}
)"""  # noqa: S608 (placeholder names, never values)


DEBIT_POSTGRES = f"""
WITH {debit_steps(1)}
SELECT id FROM debit_entry
"""  # noqa: S608


@dataclass(frozen=True)
class Debit:
    """A debit planned under the member's account lock, to be written in the same
    transaction: by `write_debit`, or on PostgreSQL as `debit_steps` of another statement."""

    member_id: int
    kind: EntryKind
    amount: int
    reason: str
    external_ref: str | None
    order_number: str | None
    now: datetime
    plan: tuple[rules.Take, ...]

    def params(self) -> list[Any]:
        """The values of `debit_steps`'s placeholders, in order."""
        return [
            self.member_id,
            self.kind.value,
            -self.amount,
            self.reason,
            self.external_ref,
            self.order_number,
            self.now,
            [take.lot_id for take in self.plan],
            [take.amount for take in self.plan],
        ]


async def plan_debit(
    *,
    member_id: int,
    kind: EntryKind,
    amount: int,
    reason: str,
    external_ref: str | None,
    order_number: str | None,
    now: datetime,
) -> Debit:
    """Which live lots a debit takes from, soonest expiry first; raises InsufficientPoints."""
    plan = rules.plan_draws(await live_lots(member_id=member_id, now=now), amount, now=now)
    return Debit(member_id, kind, amount, reason, external_ref, order_number, now, tuple(plan))


async def write_debit(debit: Debit) -> int:
    """Write a planned debit (entry, lots, draws, balance); returns the new entry's id."""
    if sql.on_postgres():
        return int((await sql.fetch(DEBIT_POSTGRES, *debit.params()))[0]["id"])
    entry = debit.params()[:7]
    entry_id = int((await sql.fetch(INSERT_DEBIT, *entry))[0]["id"])
    for take in debit.plan:
        await sql.execute(TAKE_FROM_LOT, take.lot_id, take.amount)
    await sql.insert(
        "INSERT INTO points_lot_draw (lot_id, entry_id, amount)",
        [(take.lot_id, entry_id, take.amount) for take in debit.plan],
    )
    await move_account(member_id=debit.member_id, balance=-debit.amount)
    return entry_id


async def reserve(*, member_id: int, hold_id: int, amount: int, now: datetime) -> None:
    """Hold `amount` of the member's live points for hold `hold_id`; raises InsufficientPoints."""
    plan = rules.plan_draws(await live_lots(member_id=member_id, now=now), amount, now=now)
    for take in plan:
        await PointsLot.filter(id=take.lot_id).update(held=F("held") + take.amount)
    await LotDraw.bulk_create(
        [LotDraw(lot_id=take.lot_id, hold_id=hold_id, amount=take.amount) for take in plan]
    )
    await move_account(member_id=member_id, held=amount)


async def drawn(*, entry_id: int | None = None, hold_id: int | None = None) -> list[rules.Returned]:
    """What one debit entry or one hold took, lot by lot."""
    query = (
        LotDraw.filter(entry_id=entry_id)
        if entry_id is not None
        else LotDraw.filter(hold_id=hold_id)
    )
    rows = await query.values_list(
        "amount", "lot_id", "lot__remaining", "lot__held", "lot__expires_at", "lot__settled"
    )
    return [
        rules.Returned(rules.LotState(lot_id, remaining, held, expires_at, settled), amount)
        for amount, lot_id, remaining, held, expires_at, settled in rows
    ]


async def put_back(*, member_id: int, plan: rules.ReturnPlan, now: datetime) -> None:
    """Spent points return: into their live lots, or from expired lots into a grace lot."""
    for take in plan.to_lots:
        await PointsLot.filter(id=take.lot_id).update(remaining=F("remaining") + take.amount)
    if plan.grace_amount:
        await add_lot(
            member_id=member_id,
            amount=plan.grace_amount,
            expires_at=plan.grace_expires_at,
            now=now,
        )


async def unhold(*, member_id: int, plan: rules.ReturnPlan, now: datetime) -> None:
    """Held points are freed: they stay in live lots, and leave expired lots for a grace lot."""
    for take in plan.to_lots:
        await PointsLot.filter(id=take.lot_id).update(held=F("held") - take.amount)
    for take in plan.from_expired:
        await PointsLot.filter(id=take.lot_id).update(
            held=F("held") - take.amount, remaining=F("remaining") - take.amount
        )
    if plan.grace_amount:
        await add_lot(
            member_id=member_id,
            amount=plan.grace_amount,
            expires_at=plan.grace_expires_at,
            now=now,
        )


async def consume(draws: Sequence[rules.Returned]) -> None:
    """A captured hold's points leave their lots for good."""
    for item in draws:
        await PointsLot.filter(id=item.lot.id).update(
            held=F("held") - item.amount, remaining=F("remaining") - item.amount
        )
