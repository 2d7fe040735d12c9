"""The accrual import agrees with `award` (and `awardPoints`) on every case they share, and
its two forms (set-based SQL on PostgreSQL, the ORM elsewhere) store the same file alike."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from models.errors import InvalidInput
from models.points import rules, service
from models.points.audit import audit
from models.points.importer import import_points
from models.points.models import EntryKind, PointsEntry
from tests.conftest import empty_all_tables
from tests.integration.test_import_points import (
    HEADER,
    NOW,
    award_row,
    run_import,
    snapshot,
    write_rows,
)
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, admin_token

LATER = (NOW + timedelta(days=200)).isoformat()
BIG = str(rules.MAX_AMOUNT)

# Line number (the header is line 1) -> the row, and the code it is rejected with, if any.
# The refs of lines 2-7 are in the ledger before the file (see `seed`).
CASES: dict[int, tuple[list[str], str | None]] = {
    2: (["C-KNOWN", "100", "earn-1", "resent", ""], None),  # the same credit again
    3: (["C-OTHER", "100", "earn-1", "", ""], "IDEMPOTENCY_CONFLICT"),  # another member
    4: (["C-KNOWN", "101", "earn-1", "", ""], "IDEMPOTENCY_CONFLICT"),  # another amount
    5: (["C-KNOWN", "100", "adj-up", "", ""], "IDEMPOTENCY_CONFLICT"),  # an ADJUST's ref
    6: (["C-KNOWN", "30", "adj-down", "", ""], "IDEMPOTENCY_CONFLICT"),  # a debit's ref
    7: (["C-KNOWN", "100", "comp-1", "", ""], "IDEMPOTENCY_CONFLICT"),  # a COMPENSATION's ref
    8: (["C-KNOWN", "5", "new-1", "known member", ""], None),
    9: (["C-NEW1", "7", "new-2", "new member", LATER], None),
    10: (["C-NEW1", "8", "new-3", "", ""], None),
    11: (["C-NEW1", "7", "new-2", "new member", LATER], None),  # repeats line 9
    12: (["C-NEW1", "9", "new-2", "", ""], "IDEMPOTENCY_CONFLICT"),  # differs from line 9
    13: (["C-NEW2", "5", "new-1", "", ""], "IDEMPOTENCY_CONFLICT"),  # line 8's ref
    14: (["C-NEW1", "3", "del-1", "bill\x7f", ""], "INVALID_INPUT"),
    15: (["has space", "3", "bad-1", "", ""], "INVALID_INPUT"),
    16: (["C-NEW1", "0", "bad-2", "", ""], "INVALID_INPUT"),
    17: (["C-NEW1", "12.5", "bad-3", "", ""], "INVALID_INPUT"),
    18: (["C-NEW1", "3", "bad-4"], "INVALID_INPUT"),
    19: (["C-NEW1", "3", "bad-5", "", "2020-01-01T00:00:00+08:00"], "INVALID_INPUT"),
    20: (["C-NEW1", "3", "", "", ""], "INVALID_INPUT"),
}
# 199 credits of ten million, then the balance ceiling (2,000,000,000) is met.
CASES |= {line: (["RICH", BIG, f"big-{line}", "", ""], None) for line in range(21, 220)}
CASES |= {
    220: (["RICH", "9999999", "almost", "", ""], None),  # 1,999,999,999
    221: (["RICH", "5", "too-much", "", ""], "INVALID_INPUT"),  # would pass the ceiling
    222: (["OTHER", "5", "other", "", ""], None),  # another member: unaffected
    223: (["RICH", "1", "exactly", "", ""], None),  # smaller and later: still fits
    224: (["RICH", "1", "one-more", "", ""], "INVALID_INPUT"),
    225: (["RICH", "5", "too-much", "", ""], "INVALID_INPUT"),  # repeats line 221
}
REJECTED = {line: code for line, (_, code) in CASES.items() if code is not None}
CREDITED = [line for line, (_, code) in CASES.items() if code is None and line not in (2, 11)]


async def test_a_reason_holding_del_is_refused_by_award_award_points_and_the_import(
    api: GraphQLClient, tmp_path: Path
) -> None:
    reason = "monthly\x7fbill"
    with pytest.raises(InvalidInput) as refused:
        await service.award(
            member_external_id="C1", amount=10, reason=reason, external_ref="r-1", now=NOW
        )
    result = await api.op(
        "AwardPoints",
        {"input": {"memberExternalId": "C1", "amount": 10, "reason": reason, "externalRef": "r-2"}},
        auth=admin_token(),
    )
    errors = result.data["awardPoints"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [(refused.value.code, "reason")]

    report = await run_import(write_rows(tmp_path / "f.csv", [["C1", "10", "r-3", reason, ""]]))
    assert [(r.line, r.code, r.reason) for r in report.rejected] == [
        (2, refused.value.code, refused.value.message)
    ]
    assert (report.imported, report.already_imported) == (0, 0)
    assert not await PointsEntry.exists()


async def seed() -> None:
    """The ledger before the file: refs used by an award, adjustments and a compensation."""
    member = "C-KNOWN"
    await service.award(
        member_external_id=member, amount=100, reason="", external_ref="earn-1", now=NOW
    )
    for ref, delta in [("adj-up", 100), ("adj-down", -30)]:
        await service.adjust(
            member_external_id=member, delta=delta, reason="cs", external_ref=ref, now=NOW
        )
    await service.award(
        member_external_id=member,
        amount=100,
        reason="",
        external_ref="comp-1",
        now=NOW,
        kind=EntryKind.COMPENSATION,
    )


async def import_cases(path: Path, *, batch_size: int, set_based: bool) -> dict[str, Any]:
    """What one form makes of the file, sent twice, on the seeded ledger."""
    await seed()
    reports = []
    for _ in range(2):
        with path.open(newline="", encoding="utf-8") as lines:
            report = await import_points(
                lines=lines, now=NOW, batch_size=batch_size, set_based=set_based
            )
        reports.append(
            (
                report.imported,
                report.already_imported,
                [(r.line, r.code, r.reason) for r in report.rejected],
            )
        )
    return {"reports": reports, "ledger": await snapshot(), "audit": await audit()}


def import_forms() -> list[bool]:
    """The ORM form runs everywhere; the set-based form only on PostgreSQL."""
    return [False, True] if target() == "postgres" else [False]


@pytest.mark.parametrize("batch_size", [1000, 3])
async def test_both_import_forms_store_the_same_cases_alike_row_by_row(
    db: str, tmp_path: Path, batch_size: int
) -> None:
    path = write_rows(tmp_path / "f.csv", [row for row, _ in CASES.values()])
    outcomes = []
    for set_based in import_forms():
        outcomes.append(await import_cases(path, batch_size=batch_size, set_based=set_based))
        await empty_all_tables(db)

    orm = outcomes[0]
    (imported, already, rejected), (imported_again, already_again, rejected_again) = orm["reports"]
    assert [(line, code) for line, code, _ in rejected] == sorted(REJECTED.items())
    assert (imported, already) == (len(CREDITED), 2)
    assert (imported_again, already_again) == (0, len(CREDITED) + 2)
    assert [(line, code) for line, code, _ in rejected_again] == sorted(REJECTED.items())
    accounts = dict((member, balance) for member, balance, _ in orm["ledger"]["accounts"])
    assert accounts == {
        "C-KNOWN": 275,
        "C-NEW1": 15,
        "OTHER": 5,
        "RICH": rules.MAX_BALANCE,
    }
    assert orm["audit"] == []
    for other in outcomes[1:]:
        assert other["reports"] == orm["reports"]
        assert other["ledger"] == orm["ledger"]
        assert other["audit"] == []


async def test_awarding_each_row_accepts_and_refuses_what_the_import_does(
    db: str, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "f.csv", [row for row, _ in CASES.values()])
    await seed()
    report = await run_import(path, batch_size=3)
    imported = await snapshot()
    await empty_all_tables(db)

    await seed()
    refused: dict[int, str] = {}
    for line, (row, _) in CASES.items():
        if len(row) != len(HEADER) or not row[1].isdigit():
            refused[line] = InvalidInput.code  # no call of `award` can carry such a row
            continue
        code = await award_row(row)
        if code is not None:
            refused[line] = code
    assert refused == REJECTED
    assert [(r.line, r.code) for r in report.rejected] == sorted(refused.items())
    assert await snapshot() == imported
