"""The accrual import on the real database: bad rows by line, resends, conflicts, = award."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from models.errors import DomainError, InvalidInput
from models.points import service
from models.points.audit import audit
from models.points.importer import ImportReport, import_points
from models.points.models import PointsAccount, PointsEntry, PointsLot
from tests.conftest import empty_all_tables

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
HEADER = ["member_external_id", "amount", "external_ref", "reason", "expires_at"]
LATER = (NOW + timedelta(days=200)).isoformat()

# line number -> (row, expected rejection code); line 1 is the header.
BAD_ROWS: dict[int, tuple[list[str], str]] = {
    7: (["has space", "10", "bad-1", "", ""], "INVALID_INPUT"),
    1500: (["C1", "12.5", "bad-2", "", ""], "INVALID_INPUT"),
    2999: (["C1", "0", "bad-3", "", ""], "INVALID_INPUT"),
    3001: (["C1", "10", "", "", ""], "INVALID_INPUT"),
    # Same ref as line 2 with another amount: in another batch, so the ledger spots it.
    4000: (["C00002", "99999", "bill-000000002", "", ""], "IDEMPOTENCY_CONFLICT"),
    6000: (["C1", "10", "bad-5", "", "next tuesday"], "INVALID_INPUT"),
    7000: (["C1", "10", "bad-6", "", "2020-01-01T00:00:00+08:00"], "INVALID_INPUT"),
    8000: (["C1", "10", "bad-7"], "INVALID_INPUT"),
    9000: (["C1", "10", "bad-8", "", "2030-01-01T00:00:00"], "INVALID_INPUT"),
}
REPEATED_LINE = 9500  # the same content as line 3: already imported, not rejected


def good_row(line: int) -> list[str]:
    n = line - 2
    return [
        f"C{n % 700:05d}",
        str(1 + n % 97),
        f"bill-{n:09d}",
        "monthly bill",
        LATER if n % 5 == 0 else "",
    ]


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def accrual_file(path: Path, rows: int = 10_000) -> Path:
    def row(line: int) -> list[str]:
        if line in BAD_ROWS:
            return BAD_ROWS[line][0]
        return good_row(3) if line == REPEATED_LINE else good_row(line)

    return write_rows(path, [row(line) for line in range(2, rows + 2)])


async def run_import(path: Path, *, batch_size: int = 3000) -> ImportReport:
    with path.open(newline="", encoding="utf-8") as lines:
        return await import_points(lines=lines, now=NOW, batch_size=batch_size)


async def test_import_reports_bad_rows_by_line_and_a_resend_imports_nothing(
    db: str, tmp_path: Path
) -> None:
    path = accrual_file(tmp_path / "accruals.csv")
    seen: list[int] = []
    with path.open(newline="", encoding="utf-8") as lines:
        first = await import_points(lines=lines, now=NOW, batch_size=3000, progress=seen.append)
    assert sum(seen) == 10_000
    assert {(r.line, r.code) for r in first.rejected} == {
        (line, code) for line, (_, code) in BAD_ROWS.items()
    }
    assert [r.line for r in first.rejected] == sorted(BAD_ROWS)
    assert (first.imported, first.already_imported) == (10_000 - len(BAD_ROWS) - 1, 1)
    assert await PointsEntry.all().count() == first.imported
    balance_total = sum(await PointsAccount.all().values_list("balance", flat=True))
    expected = sum(
        int(good_row(line)[1])
        for line in range(2, 10_002)
        if line not in BAD_ROWS and line != REPEATED_LINE
    )
    assert balance_total == expected

    again = await run_import(path, batch_size=4000)
    assert (again.imported, again.already_imported) == (0, first.imported + 1)
    assert [(r.line, r.code) for r in again.rejected] == [(r.line, r.code) for r in first.rejected]
    assert await PointsEntry.all().count() == first.imported
    assert await audit() == []


async def test_rows_conflicting_with_earlier_awards_are_rejected_and_others_replayed(
    db: str, tmp_path: Path
) -> None:
    await service.award(
        member_external_id="C1", amount=100, reason="api", external_ref="r-1", now=NOW
    )
    path = write_rows(
        tmp_path / "f.csv",
        [
            ["C1", "100", "r-1", "resent", ""],  # line 2: the same credit
            ["C2", "100", "r-1", "", ""],  # line 3: another member
            ["C1", "101", "r-1", "", ""],  # line 4: another amount
            ["C3", "5", "r-2", "", ""],  # line 5: new
            ["C3", "6", "r-2", "", ""],  # line 6: differs from line 5
            ["C3", "5", "r-2", "", ""],  # line 7: repeats line 5
        ],
    )
    report = await run_import(path)
    assert (report.imported, report.already_imported) == (1, 2)
    assert [(r.line, r.code) for r in report.rejected] == [
        (3, "IDEMPOTENCY_CONFLICT"),
        (4, "IDEMPOTENCY_CONFLICT"),
        (6, "IDEMPOTENCY_CONFLICT"),
    ]
    assert "line 5" in report.rejected[2].reason
    assert await PointsEntry.all().count() == 2
    assert not await PointsAccount.filter(member__external_id="C2").exists()
    assert await audit() == []


@pytest.mark.parametrize("batch_size", [1000, 7])
async def test_rows_past_the_balance_ceiling_are_rejected_as_award_would(
    db: str, tmp_path: Path, batch_size: int
) -> None:
    rows = [["RICH", "10000000", f"big-{n}", "", ""] for n in range(199)]  # 1,990,000,000
    rows += [
        ["RICH", "9999999", "almost", "", ""],  # line 201: 1,999,999,999
        ["RICH", "5", "too-much", "", ""],  # line 202: would pass 2,000,000,000
        ["OTHER", "5", "other", "", ""],  # line 203: another member, unaffected
        ["RICH", "1", "exactly", "", ""],  # line 204: 2,000,000,000 fits
        ["RICH", "1", "one-more", "", ""],  # line 205: would pass
    ]
    path = write_rows(tmp_path / "rich.csv", rows)
    report = await run_import(path, batch_size=batch_size)
    assert [(r.line, r.code) for r in report.rejected] == [
        (202, "INVALID_INPUT"),
        (205, "INVALID_INPUT"),
    ]
    assert "2,000,000,000" in report.rejected[0].reason
    assert (report.imported, report.already_imported) == (202, 0)
    rich = await PointsAccount.get(member__external_id="RICH")
    assert rich.balance == 2_000_000_000
    assert (await PointsAccount.get(member__external_id="OTHER")).balance == 5
    assert not await PointsEntry.filter(external_ref__in=["too-much", "one-more"]).exists()
    assert await audit() == []
    again = await run_import(path, batch_size=batch_size)
    assert (again.imported, again.already_imported) == (0, 202)
    assert [r.line for r in again.rejected] == [202, 205]
    assert (await PointsAccount.get(member__external_id="RICH")).balance == 2_000_000_000


async def test_a_file_without_the_required_columns_is_refused(db: str, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("member,points\nC1,5\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="external_ref"):
        await run_import(path)


async def snapshot() -> dict[str, Any]:
    """The ledger without row ids: each member's entries and lots in id order, and accounts.

    Per member, because the import stores member-disjoint batches at once on PostgreSQL:
    ids interleave between members, never within one (spending breaks ties by lot id).
    """
    entries = (
        await PointsEntry.all()
        .order_by("member__external_id", "id")
        .values_list(
            "member__external_id",
            "kind",
            "delta",
            "reason",
            "external_ref",
            "expires_at",
            "created_at",
        )
    )
    lots = (
        await PointsLot.all()
        .order_by("member__external_id", "id")
        .values_list(
            "member__external_id",
            "amount",
            "remaining",
            "held",
            "expires_at",
            "settled",
            "created_at",
        )
    )
    accounts = (
        await PointsAccount.all()
        .order_by("member__external_id")
        .values_list("member__external_id", "balance", "held")
    )
    return {"entries": entries, "lots": lots, "accounts": accounts}


async def test_import_writes_exactly_what_awarding_each_row_writes(db: str, tmp_path: Path) -> None:
    rows = [good_row(line) for line in range(2, 60)]
    rows[10] = rows[3]  # a repeat
    rows[20] = [rows[4][0], "7777", rows[4][2], "", ""]  # a conflict
    path = write_rows(tmp_path / "f.csv", rows)
    await run_import(path, batch_size=16)
    imported = await snapshot()

    await empty_all_tables(db)
    for row in rows:
        await award_row(row)  # a row award refuses is refused by the import too
    assert imported == await snapshot()


async def award_row(row: list[str]) -> str | None:
    """Award what one row of a file says; the code of the refusal, if refused."""
    member, amount, ref, reason, expires_at = row
    try:
        await service.award(
            member_external_id=member,
            amount=int(amount),
            reason=reason,
            external_ref=ref,
            now=NOW,
            expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
        )
    except DomainError as exc:
        return exc.code
    return None


async def pointsmall(*args: str, database_url: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_import_points_command_lists_rejected_lines_and_exits_1(
    db: str, tmp_path: Path
) -> None:
    path = write_rows(
        tmp_path / "f.csv",
        [["C1", "100", "r-1", "bill", ""], ["C1", "lots", "r-2", "bill", ""]],
    )
    code, out, err = await pointsmall("import-points", str(path), database_url=db)
    assert code == 1, err
    assert out.splitlines() == [
        "line 3: INVALID_INPUT amount 'lots' is not an integer",
        "imported 1, already imported 0, rejected 1",
    ]
    assert "rows/s" in err  # the progress bar, kept off stdout
    code, out, _ = await pointsmall(
        "import-points", "--batch-size", "1", str(path), database_url=db
    )
    assert (code, out.splitlines()[-1]) == (1, "imported 0, already imported 1, rejected 1")
