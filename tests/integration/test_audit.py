"""The ledger audit: clean for a consistent ledger, and it names the members that disagree."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from models.points import service
from models.points.audit import audit
from models.points.models import PointsAccount

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


async def busy_ledger() -> int:
    """Two members with credits, a spend, a refund and an open hold; C1's member id."""
    for member, amount in [("C1", 500), ("C2", 300), ("C1", 200)]:
        credit = await service.award(
            member_external_id=member,
            amount=amount,
            reason="",
            external_ref=f"{member}-{amount}",
            now=NOW,
        )
    c1 = await PointsAccount.get(member__external_id="C1")
    await service.spend(member_id=c1.member_id, amount=250, order_number="PM-1", reason="", now=NOW)
    await service.refund(order_number="PM-1", now=NOW, reason="")
    await service.hold(member_id=credit.entry.member_id, amount=100, order_number="PM-2", now=NOW)
    return c1.member_id


async def corrupt(sql: str) -> None:
    """Write past the services, as a bad migration or a hand-made fix would."""
    await PointsAccount._meta.db.execute_script(sql)


async def test_a_consistent_ledger_audits_clean(db: str) -> None:
    await busy_ledger()
    assert await audit() == []


async def test_audit_names_the_member_whose_balance_was_changed_behind_the_ledger(
    db: str,
) -> None:
    member_id = await busy_ledger()
    await corrupt(f"UPDATE points_account SET balance = balance + 7 WHERE member_id = {member_id}")
    (found,) = await audit()
    assert (found.member_id, found.external_id) == (member_id, "C1")
    assert (found.balance, found.entries, found.lots_remaining) == (707, 700, 700)
    assert found.problems == ["balance 707 != entries 700", "balance 707 != lots remaining 700"]


async def test_audit_finds_held_points_that_no_open_hold_explains(db: str) -> None:
    member_id = await busy_ledger()
    await corrupt(
        f"UPDATE points_lot SET held = remaining + 1 WHERE member_id = {member_id} "
        "AND id = (SELECT MIN(id) FROM points_lot)"
    )
    (found,) = await audit()
    assert found.bad_lots == 1
    assert any("lots held" in problem for problem in found.problems)


async def test_audit_finds_entries_of_a_member_without_an_account(db: str) -> None:
    member_id = await busy_ledger()
    await corrupt("DELETE FROM points_account WHERE member_id = " + str(member_id))
    (found,) = await audit()
    assert (found.member_id, found.balance, found.entries) == (member_id, 0, 700)


async def pointsmall(*args: str, database_url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_pointsmall_audit_exits_non_zero_when_members_disagree(db: str) -> None:
    member_id = await busy_ledger()
    code, output = await pointsmall("audit", database_url=db)
    assert (code, output.strip()) == (0, "audit: every member's points agree with the ledger")
    await corrupt(f"UPDATE points_account SET held = held + 1 WHERE member_id = {member_id}")
    code, output = await pointsmall("audit", database_url=db)
    assert code == 1
    assert f"C1 (member {member_id}): held 101 != open holds 100" in output
    assert output.strip().endswith("audit: 1 member disagrees with the ledger")
