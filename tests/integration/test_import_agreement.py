"""The accrual import agrees with `award` (and `awardPoints`) on every case they share."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.errors import InvalidInput
from models.points import service
from models.points.importer import ImportReport, import_points
from models.points.models import PointsEntry
from tests.support.graphql import GraphQLClient, admin_token

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
HEADER = ["member_external_id", "amount", "external_ref", "reason", "expires_at"]


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


async def run_import(path: Path, *, batch_size: int = 1000) -> ImportReport:
    with path.open(newline="", encoding="utf-8") as lines:
        return await import_points(lines=lines, now=NOW, batch_size=batch_size)


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
