"""The ledger's credits: each one an entry, its new lot, and its member's balance raised.

The one rule, in two forms. `credit_many` applies it to a batch through the current
transaction on any database: `award` and `adjust` credit a batch of one (`credit`), the
import's batches go through it on SQLite. `credits_postgres` is its PostgreSQL form, which
the import runs on a whole staged batch with a few set-based statements; the tests feed both
forms the same files and compare the ledgers they leave, row by row.

The rule: the members' accounts are locked in member order (and opened if missing), the
credits apply in the batch's order, and one that would take its member's balance past
`rules.MAX_BALANCE` is refused while later, smaller ones may still fit; the entries are
written in that order, then their lots in the same order, then each balance goes up by
what its member was credited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TypeVar

from models import sql
from models.points import ledger, rules
from models.points.models import EntryKind, PointsEntry

T = TypeVar("T")
# Rows per statement: an `IN (...)` list, or a multi-row INSERT's eight values a row, stays
# well within SQLite's and asyncpg's limits on parameters.
CHUNK = 1000
INSERT_ENTRIES = (
    "INSERT INTO points_entry"
    " (member_id, kind, delta, reason, external_ref, order_number, expires_at, created_at)"
)


@dataclass(frozen=True)
class NewCredit:
    """A credit to write: an entry of `amount` points and a lot that expires at `expires_at`."""

    member_id: int
    kind: EntryKind
    amount: int
    reason: str
    external_ref: str | None
    order_number: str | None
    expires_at: datetime


@dataclass(frozen=True)
class CreditedBatch:
    """The ids of the entries `credit_many` wrote (in no promised order), and the positions
    in the batch it refused."""

    entry_ids: list[int]
    refused: frozenset[int]


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


async def credit(
    *,
    member_id: int,
    kind: EntryKind,
    amount: int,
    reason: str,
    external_ref: str | None,
    order_number: str | None,
    expires_at: datetime,
    now: datetime,
) -> PointsEntry:
    """A credit entry and its new lot, the balance raised by `amount`; raises InvalidInput
    when the balance would pass `rules.MAX_BALANCE` (what the API's 32-bit `Int` carries)."""
    wanted = NewCredit(member_id, kind, amount, reason, external_ref, order_number, expires_at)
    batch = await credit_many([wanted], now=now)
    if batch.refused:
        raise rules.ceiling_refusal()
    [entry_id] = batch.entry_ids
    return sql.model(
        PointsEntry,
        {
            "id": entry_id,
            "member_id": member_id,
            "kind": kind,
            "delta": amount,
            "reason": reason,
            "external_ref": external_ref,
            "order_number": order_number,
            "expires_at": expires_at,
            "created_at": now,
        },
    )


async def credit_many(credits: Sequence[NewCredit], *, now: datetime) -> CreditedBatch:
    """Credit the batch in order, in the current transaction; the positions refused for
    passing the balance ceiling are reported, not raised."""
    balances = await ledger.lock_accounts(
        member_ids=(c.member_id for c in credits), open_missing=True
    )
    in_order: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for position, wanted in enumerate(credits):
        in_order[wanted.member_id].append((position, wanted.amount))
    refused: set[int] = set()
    for member_id, amounts in in_order.items():
        refused |= rules.past_ceiling(balances[member_id], amounts)
    kept = [wanted for position, wanted in enumerate(credits) if position not in refused]
    entry_ids = await _write_entries(kept, now=now)
    await ledger.add_lots([(c.member_id, c.amount, c.expires_at) for c in kept], now=now)
    raised: dict[int, int] = defaultdict(int)
    for wanted in kept:
        raised[wanted.member_id] += wanted.amount
    for member_id, amount in raised.items():
        await ledger.move_account(member_id=member_id, balance=amount)
    return CreditedBatch(entry_ids, frozenset(refused))


async def _write_entries(credits: Sequence[NewCredit], *, now: datetime) -> list[int]:
    """The credits' entries, in order; their ids (in no promised order)."""
    ids: list[int] = []
    for chunk in _chunks(credits):
        written = await sql.insert(
            INSERT_ENTRIES,
            [
                (
                    c.member_id,
                    c.kind.value,
                    c.amount,
                    c.reason,
                    c.external_ref,
                    c.order_number,
                    c.expires_at,
                    now,
                )
                for c in chunk
            ],
            returning="id",
        )
        ids += [int(row["id"]) for row in written]
    return ids
