"""Bulk accrual import: the billing file in batches, one transaction per batch.

Each row ends imported, already imported (its ref was credited before to the same member
with the same amount), or rejected with its line: invalid, or IDEMPOTENCY_CONFLICT when its
ref was used for another member or amount. The outcome is what `award` makes of the rows
in file order. PostgreSQL stores a batch with set-based SQL (`import_postgres`); other
databases (SQLite) go through the ORM in bulk, and so does PostgreSQL when `set_based` is
False: two forms of the same rules, which the tests hold to the same outcomes. Memory stays
bounded by the batch: a ref that repeats in a later batch is recognised by the ledger itself.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import TypeVar

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from models.errors import InvalidInput
from models.members import service as members
from models.notifications import outbox
from models.notifications.models import NotificationKind
from models.points import credits, import_postgres, rules
from models.points.accruals import (
    Accrual,
    Rejection,
    Stored,
    conflict,
    deduplicate,
    over_ceiling,
    read_accruals,
)
from models.points.models import EntryKind, PointsEntry

T = TypeVar("T")
IN_CHUNK = 1000  # ids per IN (...) list: well under SQLite's limit on parameters
POSTGRES_LANES = 2
DEADLOCK_RETRIES = 3


@dataclass
class ImportReport:
    imported: int = 0
    already_imported: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.imported + self.already_imported + len(self.rejected)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def import_points(
    *,
    lines: Iterable[str],
    now: datetime,
    batch_size: int = 10_000,
    timezone: str = rules.DEFAULT_TIMEZONE,
    progress: Callable[[int], None] | None = None,
    set_based: bool = True,
    tell_from: int | None = None,
) -> ImportReport:
    """Import an accrual file batch by batch; raises InvalidInput for an unusable header."""
    if batch_size < 1:
        raise InvalidInput("batch_size must be positive", field="batch_size")
    report = ImportReport()
    lanes = _lanes()
    rounds = _chunks(read_accruals(lines, now=now, timezone=timezone), batch_size * lanes)
    # The next round is read and checked in a thread while the database stores this one.
    rows = await asyncio.to_thread(next, rounds, None)
    while rows is not None:
        following = asyncio.ensure_future(asyncio.to_thread(next, rounds, None))
        try:
            await _import_round(
                rows, report, now=now, lanes=lanes, set_based=set_based, tell_from=tell_from
            )
        except BaseException:
            await asyncio.gather(following, return_exceptions=True)
            raise
        if progress is not None:
            progress(len(rows))
        rows = await following
    return report


def _lanes() -> int:
    """Batches stored at once: two on PostgreSQL (a backend per core), else one."""
    connection = PointsEntry._meta.db
    if isinstance(connection, AsyncpgDBClient) and not isinstance(
        connection, TransactionalDBClient
    ):
        return POSTGRES_LANES
    return 1


def _lane_of(accrual: Accrual, lanes: int) -> int:
    return zlib.crc32(accrual.member_external_id.encode()) % lanes


async def _import_round(
    rows: Sequence[Accrual | Rejection],
    report: ImportReport,
    *,
    now: datetime,
    lanes: int,
    set_based: bool,
    tell_from: int | None,
) -> None:
    """Store a round of rows as member-disjoint batches, one transaction each, at once.

    Refs are distinct within the round once deduplicated, and batches share no member, so
    the batches cannot meet: the result is what storing them one after the other gives.
    A repeated ref shares the fate of its first row in the round.
    """
    rejected = [row for row in rows if isinstance(row, Rejection)]
    unique = deduplicate(row for row in rows if isinstance(row, Accrual))
    batches: list[list[Accrual]] = [[] for _ in range(lanes)]
    for accrual in unique.fresh:
        batches[_lane_of(accrual, lanes)].append(accrual)
    parts = await asyncio.gather(
        *(_store(batch, now=now, set_based=set_based, tell_from=tell_from) for batch in batches)
    )
    stored = Stored(
        imported=sum(part.imported for part in parts),
        replayed=sum(part.replayed for part in parts),
        conflicting=frozenset().union(*(part.conflicting for part in parts)),
        over_ceiling=frozenset().union(*(part.over_ceiling for part in parts)),
    )
    rejected += unique.conflicts
    rejected += [
        conflict(row.line, row.external_ref, "an earlier credit")
        for row in [*unique.fresh, *unique.repeats]
        if row.external_ref in stored.conflicting
    ]
    rejected += [
        over_ceiling(row.line)
        for row in [*unique.fresh, *unique.repeats]
        if row.external_ref in stored.over_ceiling
    ]
    report.imported += stored.imported
    report.already_imported += stored.replayed + sum(
        row.external_ref not in stored.conflicting | stored.over_ceiling for row in unique.repeats
    )
    report.rejected += sorted(rejected, key=lambda rejection: rejection.line)


async def _store(
    accruals: Sequence[Accrual], *, now: datetime, set_based: bool, tell_from: int | None
) -> Stored:
    """One transaction: the batch's distinct refs become credits, replays or conflicts."""
    if not accruals:
        return Stored(0, 0, frozenset())
    retries = DEADLOCK_RETRIES
    while True:
        try:
            return await _store_once(accruals, now=now, set_based=set_based, tell_from=tell_from)
        except asyncpg.DeadlockDetectedError:
            # Two imports of overlapping files at once can meet on shared refs in different
            # orders; PostgreSQL aborts one batch, which rolled back whole and is idempotent.
            if retries == 0:
                raise
            retries -= 1


async def _store_once(
    accruals: Sequence[Accrual], *, now: datetime, set_based: bool, tell_from: int | None
) -> Stored:
    async with in_transaction() as connection:
        if set_based and isinstance(connection, AsyncpgDBClient):
            async with connection.acquire_connection() as raw:
                return await import_postgres.store_batch(
                    raw, accruals, now=now, tell_from=tell_from
                )
        return await _store_orm(accruals, now=now, tell_from=tell_from)


async def _store_orm(
    accruals: Sequence[Accrual], *, now: datetime, tell_from: int | None
) -> Stored:
    known = await _known_refs([a.external_ref for a in accruals])
    fresh: list[Accrual] = []
    replayed, conflicting = 0, set()
    for accrual in accruals:
        earlier = known.get(accrual.external_ref)
        if earlier is None:
            fresh.append(accrual)
        elif rules.reuse_of(earlier, accrual.use()) is rules.RefReuse.REPLAYED:
            replayed += 1
        else:
            conflicting.add(accrual.external_ref)
    over: frozenset[str] = frozenset()
    if fresh:
        member_ids = await members.ensure_members(
            external_ids=(a.member_external_id for a in fresh)
        )
        credited = await credits.credit_many(
            [
                credits.NewCredit(
                    member_id=member_ids[a.member_external_id],
                    kind=EntryKind.EARN,
                    amount=a.amount,
                    reason=a.reason,
                    external_ref=a.external_ref,
                    order_number=None,
                    expires_at=a.expires_at,
                )
                for a in fresh
            ],
            now=now,
        )
        over = frozenset(fresh[position].external_ref for position in credited.refused)
        if tell_from is not None:
            await outbox.notify_many(
                NotificationKind.POINTS_CREDITED,
                [
                    outbox.Notice(
                        member_ids[a.member_external_id],
                        outbox.credit_key(a.external_ref),
                        {"points": a.amount, "reason": a.reason},
                    )
                    for a in fresh
                    if a.amount >= tell_from and a.external_ref not in over
                ],
                now=now,
            )
    return Stored(len(fresh) - len(over), replayed, frozenset(conflicting), over)


async def _known_refs(refs: Sequence[str]) -> dict[str, rules.RefUse]:
    """What each ref the ledger already holds was used for."""
    known: dict[str, rules.RefUse] = {}
    for chunk in _chunks(refs, IN_CHUNK):
        rows = await PointsEntry.filter(external_ref__in=chunk).values_list(
            "external_ref", "member__external_id", "delta", "kind"
        )
        known.update(
            {ref: rules.RefUse(member, delta, EntryKind(kind)) for ref, member, delta, kind in rows}
        )
    return known
