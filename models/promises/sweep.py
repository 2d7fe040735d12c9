"""The watch of every promise with a deadline: each due alert raised once and announced, each
breach that owes a goodwill credit compensated once.

An order's ship-by (fulfilment) and a ticket's reply-by (after-sales) are watched alike.
Each domain keeps its own tables, a deadline table (rows only for promises still owed, by
`due_at`) and an alert table (one row per owner, kind and cycle), and hands this module a
`PromiseBook`: the statements over those tables, written by their owner (one owner per
table). What is the same for every promise lives here, once:

- a pass works in small batches, each in its own transaction, so a worker killed mid-pass
  leaves every batch done or untouched and the next pass finishes the job;
- its cost follows the due rows (deadlines by `due_at`, uncompensated breaches), never all
  the owners;
- the owner row is the claim (`FOR UPDATE SKIP LOCKED`): whoever holds it handles all of
  that owner's due deadlines, so several workers on PostgreSQL neither wait for nor
  repeat each other's work, and owners another worker holds are skipped for the rest of
  the pass; the alert table's unique key is the backstop;
- an alert is raised only while its promise is still owed (`PromiseBook.owed`), and
  announced on the book's channel in the transaction that raises it;
- a breach's compensation is credited once per breach through the points ledger, its
  `external_ref` naming the breach, with every member's account locked first in member
  order so two workers' batches queue instead of deadlocking.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from tortoise.transactions import in_transaction

from models.errors import IdempotencyConflict
from models.events import announce_many
from models.members.models import Member
from models.points import service as points
from models.points.models import EntryKind

log = logging.getLogger("pointsmall.sweeper")
OwnerT = TypeVar("OwnerT")
AlertT = TypeVar("AlertT")


@dataclass(frozen=True)
class DueDeadline:
    """A deadline row that fell due: which owner, which alert, of which cycle of the promise
    (a promise that starts again, such as the answer to each later message, counts cycles)."""

    id: int
    owner_id: int
    kind: str
    cycle: int = 0


@dataclass(frozen=True, order=True)
class NewAlert:
    owner_id: int
    kind: str
    cycle: int = 0


class PromiseBook(Protocol[OwnerT]):
    """One domain's deadline and alert tables, as the watch reads and writes them."""

    @property
    def channel(self) -> str:
        """The change-notice channel each new alert's id is announced on."""

    async def due_owners(self, *, now: datetime, batch: int, busy: set[int]) -> list[int]:
        """Owners of up to `batch` deadlines due at `now`, oldest first, none of `busy`."""

    async def lock_owners(self, ids: list[int]) -> dict[int, OwnerT]:
        """The owner rows, locked in id order, skipping those another worker holds."""

    async def lock_due(self, owner_ids: list[int], *, now: datetime) -> list[DueDeadline]:
        """The locked owners' deadlines due at `now`, locked."""

    def owed(self, owner: OwnerT, deadline: DueDeadline) -> bool:
        """Whether the promise is still owed, so its alert is raised."""

    async def raised(self, owner_ids: list[int]) -> set[NewAlert]:
        """The alerts already raised for these owners."""

    async def record(
        self, new: Sequence[NewAlert], owners: dict[int, OwnerT], *, now: datetime
    ) -> list[int]:
        """Write the new alerts; their ids."""

    async def tell(
        self, new: Sequence[NewAlert], owners: dict[int, OwnerT], *, now: datetime
    ) -> None:
        """Whatever else the new alerts write in their transaction (members' messages)."""

    async def drop(self, deadline_ids: list[int]) -> None:
        """Remove the handled deadlines."""


async def raise_due(book: PromiseBook[OwnerT], *, now: datetime, batch: int) -> list[str]:
    """Raise the alerts of every deadline due at `now`, once each; the kinds raised."""
    raised: list[str] = []
    busy: set[int] = set()
    while True:
        handled, kinds, skipped = await _alert_batch(book, now=now, batch=batch, busy=busy)
        raised += kinds
        busy |= skipped
        if handled == 0:
            return raised


async def _alert_batch(
    book: PromiseBook[OwnerT], *, now: datetime, batch: int, busy: set[int]
) -> tuple[int, list[str], set[int]]:
    """One transaction: claim owners with due deadlines; handled, raised, owners skipped."""
    async with in_transaction():
        wanted = await book.due_owners(now=now, batch=batch, busy=busy)
        if not wanted:
            return 0, [], set()
        owners = await book.lock_owners(wanted)
        if not owners:
            return 0, [], set(wanted)
        due = await book.lock_due(sorted(owners), now=now)
        raised = await _raise_all(book, due, owners, now=now)
        await book.drop([d.id for d in due])
        return len(due), raised, set(wanted) - set(owners)


async def _raise_all(
    book: PromiseBook[OwnerT], due: list[DueDeadline], owners: dict[int, OwnerT], *, now: datetime
) -> list[str]:
    """Record, announce and tell the alerts of the due deadlines still owed, once each.

    A statement per step for the whole batch, not per alert. The transaction holds the
    owners' locks, so no other worker raises their alerts meanwhile; the alert table's
    unique key stays the backstop (the batch rolls back and the next pass retries it).
    """
    wanted = {
        NewAlert(d.owner_id, d.kind, d.cycle) for d in due if book.owed(owners[d.owner_id], d)
    }
    if not wanted:
        return []
    new = sorted(wanted - await book.raised(sorted({a.owner_id for a in wanted})))
    if not new:
        return []
    ids = await book.record(new, owners, now=now)
    await announce_many(book.channel, [str(i) for i in ids])
    await book.tell(new, owners, now=now)
    return [alert.kind for alert in new]


@dataclass(frozen=True)
class Owed:
    """The goodwill credit one breach owes its member."""

    alert_id: int
    member_id: int
    amount: int
    external_ref: str
    reason: str
    order_number: str | None = None
    owner: Any = None  # the row the promise was made on, for the book's own `settle`


class CompensationBook(Protocol[AlertT]):
    """One domain's breach alerts that owe a credit, as the compensation step settles them."""

    async def claim(self, *, batch: int) -> list[AlertT]:
        """Up to `batch` breach alerts not yet compensated, locked, skipping those held."""

    async def owed(self, alerts: Sequence[AlertT]) -> list[Owed]:
        """What each claimed alert owes, in the alerts' order."""

    async def settle(self, owed: Sequence[Owed], paid: dict[int, int], *, now: datetime) -> None:
        """Mark the alerts compensated and tell their members (`paid`: alert id: points)."""


async def compensate_once(book: CompensationBook[AlertT], *, now: datetime, batch: int) -> int:
    """Credit every breach that owes one, once; the breaches compensated."""
    done = 0
    while True:
        count = await _compensation_batch(book, now=now, batch=batch)
        done += count
        if count == 0:
            return done


async def _compensation_batch(book: CompensationBook[AlertT], *, now: datetime, batch: int) -> int:
    async with in_transaction():
        alerts = await book.claim(batch=batch)
        if not alerts:
            return 0
        owed = await book.owed(alerts)
        members = await Member.filter(id__in=[o.member_id for o in owed]).values_list(
            "id", "external_id"
        )
        external_ids = dict(members)
        # Another worker may be crediting some of these members in a batch of its own: take
        # every account lock first, in member order, so the two queue instead of deadlocking.
        await points.lock_accounts(member_ids=list(external_ids))
        paid = {o.alert_id: await _credit(o, str(external_ids[o.member_id]), now=now) for o in owed}
        await book.settle(owed, paid, now=now)
        return len(alerts)


async def _credit(owed: Owed, external_id: str, *, now: datetime) -> int:
    """Credit the member once for the breach; the points credited."""
    try:
        credit = await points.award(
            member_external_id=external_id,
            amount=owed.amount,
            reason=owed.reason,
            external_ref=owed.external_ref,
            now=now,
            kind=EntryKind.COMPENSATION,
            order_number=owed.order_number,
        )
    except IdempotencyConflict:
        # Credited before under another amount: the member was compensated once, as promised.
        log.warning("%s exists with another amount; not credited again", owed.external_ref)
        return owed.amount
    return int(credit.entry.delta)
