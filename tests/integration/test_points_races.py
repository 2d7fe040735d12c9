"""Points under real concurrency on PostgreSQL: row locks, the connection pool, SKIP LOCKED.

SQLite serialises transactions within a process, so these races only mean something on
PostgreSQL; the file is skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import contextvars
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from models.errors import InsufficientPoints
from models.points import credits_postgres, import_postgres, service
from models.points.accruals import Accrual
from models.points.audit import audit
from models.points.importer import import_points
from models.points.models import EntryKind, PointsAccount, PointsEntry, PointsLot
from models.points.rules import default_expiry
from tests.support.databases import target

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(target() != "postgres", reason="races need PostgreSQL"),
]

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def fund(member: str, lots: int, each: int) -> int:
    member_id = 0
    for n in range(lots):
        credit = await service.award(
            member_external_id=member,
            amount=each,
            reason="",
            external_ref=f"{member}-fund-{n}",
            now=NOW,
            expires_at=NOW + (10 + n) * DAY,
        )
        member_id = credit.entry.member_id
    return member_id


async def test_concurrent_spends_holds_and_debits_never_overdraw_one_account(db: str) -> None:
    member_id = await fund("C1", lots=5, each=2_000)
    spends = [
        service.spend(member_id=member_id, amount=300, order_number=f"PM-S{n}", reason="", now=NOW)
        for n in range(25)
    ]
    debits = [
        service.adjust(
            member_external_id="C1", delta=-250, reason="fix", external_ref=f"adj-{n}", now=NOW
        )
        for n in range(25)
    ]
    holds = [
        service.hold(member_id=member_id, amount=200, order_number=f"PM-H{n}", now=NOW)
        for n in range(10)
    ]
    results = await asyncio.gather(*spends, *debits, *holds, return_exceptions=True)

    taken = {"spend": 0, "debit": 0, "hold": 0}
    for kind, result, amount in zip(
        ["spend"] * 25 + ["debit"] * 25 + ["hold"] * 10,
        results,
        [300] * 25 + [250] * 25 + [200] * 10,
        strict=True,
    ):
        if isinstance(result, BaseException):
            assert isinstance(result, InsufficientPoints), result
        else:
            taken[kind] += amount
    assert 0 < sum(taken.values()) <= 10_000
    assert any(isinstance(r, InsufficientPoints) for r in results)
    account = await PointsAccount.get(member_id=member_id)
    assert account.balance == 10_000 - taken["spend"] - taken["debit"]
    assert account.held == taken["hold"]
    assert account.balance - account.held >= 0
    redeemed = await PointsEntry.filter(kind=EntryKind.REDEEM).values_list("delta", flat=True)
    assert -sum(redeemed) == taken["spend"]
    assert await audit() == []


async def test_two_concurrent_expiry_passes_expire_each_lot_once(db: str) -> None:
    for n in range(40):
        await fund(f"C{n:03d}", lots=3, each=100)
    later = NOW + 30 * DAY
    settled = await asyncio.gather(
        service.expire_due(now=later, limit=10_000), service.expire_due(now=later, limit=10_000)
    )
    assert sum(settled) == 120
    expired = await PointsEntry.filter(kind=EntryKind.EXPIRE).values_list("member_id", "delta")
    assert len(expired) == 40
    assert len({member_id for member_id, _ in expired}) == 40
    assert {delta for _, delta in expired} == {-300}
    assert await PointsLot.filter(settled=False).count() == 0
    assert await audit() == []


async def test_expiry_workers_in_small_passes_share_the_work_without_repeating_it(db: str) -> None:
    for n in range(60):
        await fund(f"C{n:03d}", lots=2, each=50)
    later = NOW + 30 * DAY

    async def worker() -> int:
        settled = 0
        while handled := await service.expire_due(now=later, limit=7):
            settled += handled
        return settled

    assert sum(await asyncio.gather(*(worker() for _ in range(4)))) == 120
    assert await service.expire_due(now=later) == 0
    assert await PointsEntry.filter(kind=EntryKind.EXPIRE).count() == 60
    assert await audit() == []


def write_file(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["member_external_id", "amount", "external_ref", "reason", "expires_at"])
        writer.writerows([member, amount, ref, "bill", ""] for member, amount, ref in rows)
    return path


async def test_imports_and_awards_of_the_same_refs_at_once_credit_each_ref_once(
    db: str, tmp_path: Path
) -> None:
    rows = [(f"C{n % 150:04d}", 1 + n % 50, f"bill-{n:06d}") for n in range(3_000)]
    forward = write_file(tmp_path / "forward.csv", rows)
    backward = write_file(tmp_path / "backward.csv", rows[::-1])

    async def load(path: Path) -> Any:
        with path.open(newline="", encoding="utf-8") as lines:
            return await import_points(lines=lines, now=NOW, batch_size=400)

    awards = [
        service.award(
            member_external_id=member, amount=amount, reason="api", external_ref=ref, now=NOW
        )
        for member, amount, ref in rows[::37]
    ]
    results = await asyncio.gather(load(forward), load(backward), *awards)
    first, second = results[0], results[1]
    assert first.rejected == second.rejected == []
    assert first.imported + second.imported <= 3_000
    assert await PointsEntry.all().count() == 3_000
    assert sum(await PointsAccount.all().values_list("balance", flat=True)) == sum(
        amount for _, amount, _ in rows
    )
    assert await audit() == []


class CreditRaceConnection:
    """The import's connection, with a competing award committed just before CREDIT_STAGED."""

    def __init__(self, raw: Any, compete: Any) -> None:
        self.raw, self.compete = raw, compete

    async def fetch(self, sql: str, *args: Any) -> Any:
        if sql == credits_postgres.CREDIT_STAGED.text:
            await self.compete()
        return await self.raw.fetch(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


async def test_a_ref_awarded_while_its_batch_is_stored_is_not_credited_twice(db: str) -> None:
    await service.award(
        member_external_id="C-OTHER", amount=1, reason="", external_ref="r-0", now=NOW
    )
    expires = default_expiry(NOW)
    batch = [
        Accrual(2, "C1", 100, "r-1", "bill", expires),
        Accrual(3, "C1", 200, "r-2", "bill", expires),
        Accrual(4, "C2", 300, "r-3", "bill", expires),
    ]

    outside = contextvars.copy_context()  # no transaction: the award takes its own connection

    async def compete() -> None:
        award = service.award(
            member_external_id="C-OTHER", amount=200, reason="", external_ref="r-2", now=NOW
        )
        await asyncio.create_task(award, context=outside)

    async with in_transaction() as connection, connection.acquire_connection() as raw:
        stored = await import_postgres.store_batch(
            CreditRaceConnection(raw, compete), batch, now=NOW
        )
    assert (stored.imported, stored.replayed, stored.conflicting) == (2, 0, frozenset({"r-2"}))
    c1 = await PointsAccount.get(member__external_id="C1")
    assert c1.balance == 100
    assert await audit() == []
