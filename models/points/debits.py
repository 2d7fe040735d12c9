"""Debits: points leaving a member's lots, planned under the account lock, then written.

A debit is one entry (negative), what each lot gives (soonest expiry first), the draws that
record it, and the balance going down. `plan_debit` decides the lots; `write_debit` writes
all four in the caller's transaction. On PostgreSQL the four are one statement, either
alone or as `debit_steps` of another statement of the same transaction (the redemption's
order); elsewhere they are a statement each. Both forms take the same `Debit` and write
the same rows (tests/integration/test_debit_forms.py feeds both the same cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import sql
from models.points import rules
from models.points.ledger import live_lots, move_text
from models.points.models import EntryKind

ENTRY = "debit_entry"  # the step that writes the entry returns its id


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


def entry_text(p: sql.Params, debit: Debit) -> str:
    """The debit's entry; returns its id."""
    return f"""INSERT INTO points_entry (member_id, kind, delta, reason, external_ref,
                              order_number, created_at)
    VALUES ({p(debit.member_id)}, {p(debit.kind.value)}, {p(-debit.amount)}, {p(debit.reason)},
            {p(debit.external_ref)}, {p(debit.order_number)}, {p(debit.now)}) RETURNING id"""  # noqa: S608 (placeholders, never values)


def debit_steps(p: sql.Params, debit: Debit) -> list[tuple[str, str]]:
    """The four writes of a debit as named steps of one PostgreSQL statement: the entry
    (`ENTRY`, which returns its id), what each lot gives, the draws that say so, the balance."""
    lots = p([take.lot_id for take in debit.plan], "bigint[]")
    amounts = p([take.amount for take in debit.plan], "bigint[]")
    return [
        ("debit_plan", f"SELECT * FROM unnest({lots}, {amounts}) AS p (lot_id, amount)"),  # noqa: S608
        (ENTRY, entry_text(p, debit)),
        (
            "debit_taken",
            "UPDATE points_lot l SET remaining = l.remaining - p.amount "
            "FROM debit_plan p WHERE l.id = p.lot_id",
        ),
        (
            "debit_drawn",
            f"INSERT INTO points_lot_draw (lot_id, entry_id, amount) SELECT p.lot_id, e.id, p.amount FROM debit_plan p, {ENTRY} e",  # noqa: E501, S608
        ),
        ("debit_moved", move_text(p, member_id=debit.member_id, balance=-debit.amount)),
    ]


TAKE_FROM_LOT = "UPDATE points_lot SET remaining = remaining - $2 WHERE id = $1"
DRAWS = "INSERT INTO points_lot_draw (lot_id, entry_id, amount)"


async def write_debit(debit: Debit, *, one_statement: bool | None = None) -> int:
    """Write a planned debit (entry, lots, draws, balance); returns the new entry's id.

    `one_statement`: the PostgreSQL form (the default there) or a statement per write."""
    p = sql.Params()
    if sql.on_postgres() if one_statement is None else one_statement:
        text = sql.composed(debit_steps(p, debit), columns="id", source=ENTRY)
        return int((await sql.fetch(text, *p.values))[0]["id"])
    entry_id = int((await sql.fetch(entry_text(p, debit), *p.values))[0]["id"])
    for take in debit.plan:
        await sql.execute(TAKE_FROM_LOT, take.lot_id, take.amount)
    await sql.insert(DRAWS, [(take.lot_id, entry_id, take.amount) for take in debit.plan])
    moved = sql.Params()
    await sql.execute(
        move_text(moved, member_id=debit.member_id, balance=-debit.amount), *moved.values
    )
    return entry_id
