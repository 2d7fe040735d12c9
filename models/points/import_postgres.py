"""Storing a batch of accruals on PostgreSQL with set-based SQL.

The batch is copied (asyncpg `copy_records_to_table`) into a temporary staging table that
dies with the transaction; a few statements then do per batch what `award` does per row:
refs already in the ledger are replays or conflicts (`credits_postgres.REF_REUSE`),
unknown members are created, and the ledger's set-based credit (`credits_postgres`) opens
or raises the accounts in member order and writes the entries and their lots. Lookups
probe indexes row by row, so a batch costs the same however large the ledger has grown.
The rare exceptions are taken back afterwards, in the same transaction, rather than looked
for beforehand: rows that took a balance past the ceiling are left out exactly as `award`
would refuse them, and a ref that a concurrent award wrote meanwhile is classified
afterwards instead of failing the batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from models import sql
from models.members import service as members
from models.notifications import outbox
from models.points import credits_postgres
from models.points.accruals import Accrual, Stored
from models.points.credits_postgres import REF_REUSE
from models.points.rules import RefReuse

STAGED_COLUMNS = ("line", "member_external_id", "amount", "external_ref", "reason", "expires_at")

STAGING = "points_import_staging"
DROP_STAGING = "DROP TABLE IF EXISTS points_import_staging"
CREATE_STAGING = """
CREATE TEMPORARY TABLE points_import_staging (
    line integer NOT NULL,
    member_external_id varchar(64) NOT NULL,
    amount bigint NOT NULL,
    external_ref varchar(128) NOT NULL,
    reason varchar(200) NOT NULL,
    expires_at timestamptz NOT NULL,
    member_id bigint,
    outcome varchar(16)
) ON COMMIT DROP
"""

# Correlated subqueries: one index probe per staged row, whatever the size of the ledger.
# One pass finds each row's member, if known, and an earlier entry of its ref, if any, and
# counts the rows by what it found.
LOOKUP = f"""
WITH looked_up AS (
    UPDATE points_import_staging AS s SET
        member_id = (SELECT m.id FROM member AS m WHERE m.external_id = s.member_external_id),
        outcome = {REF_REUSE}
    RETURNING s.outcome, s.member_id IS NULL AS unknown
)
SELECT outcome, unknown, COUNT(*) AS n FROM looked_up GROUP BY outcome, unknown
"""  # noqa: S608 (built from a constant)

# Members seen for the first time are created by their owner, from the staged rows.
CREATE_MEMBERS = members.create_missing(
    external_ids="SELECT member_external_id AS external_id FROM points_import_staging "
    "WHERE outcome IS NULL AND member_id IS NULL"
)

RESOLVE_NEW_MEMBERS = """
UPDATE points_import_staging AS s
SET member_id = (SELECT m.id FROM member AS m WHERE m.external_id = s.member_external_id)
WHERE s.outcome IS NULL AND s.member_id IS NULL
"""

COUNT_OUTCOMES = "SELECT outcome, COUNT(*) AS n FROM points_import_staging GROUP BY outcome"
CONFLICTS = f"""
SELECT external_ref FROM points_import_staging WHERE outcome = '{RefReuse.CONFLICT.value}'
"""  # noqa: S608 (built from a constant)


async def store_batch(
    connection: Any, accruals: Sequence[Accrual], *, now: datetime, tell_from: int | None = None
) -> Stored:
    """Store one batch of distinct refs on the transaction's raw asyncpg connection, telling
    the members of credits of `tell_from` points or more."""
    await connection.execute(DROP_STAGING)  # left by an earlier batch in the same transaction
    await connection.execute(CREATE_STAGING)
    await connection.copy_records_to_table(
        "points_import_staging",
        records=[
            (a.line, a.member_external_id, a.amount, a.external_ref, a.reason, a.expires_at)
            for a in accruals
        ],
        columns=STAGED_COLUMNS,
    )
    found = await connection.fetch(LOOKUP)
    if any(row["outcome"] is None and row["unknown"] for row in found):
        await connection.execute(CREATE_MEMBERS.text, *CREATE_MEMBERS.args(now=now))
        await connection.execute(RESOLVE_NEW_MEMBERS)
    over = await credits_postgres.raise_staged_accounts(connection, now=now)
    missed = await credits_postgres.credit_staged(connection, now=now)
    counts = _counts(found)
    imported = counts.get(None, 0) - len(over)
    if missed:
        counts = _counts(await connection.fetch(COUNT_OUTCOMES))
        imported = counts.get(None, 0)
    if tell_from is not None:
        p = sql.Params()
        told = outbox.staged_credits_text(p, staged=STAGING, tell_from=tell_from, now=now)
        await connection.execute(told, *p.values)
    conflicting = await connection.fetch(CONFLICTS) if counts.get(RefReuse.CONFLICT) else []
    return Stored(
        imported=imported,
        replayed=counts.get(RefReuse.REPLAYED, 0),
        conflicting=frozenset(row["external_ref"] for row in conflicting),
        over_ceiling=over,
    )


def _counts(rows: Sequence[Any]) -> dict[str | None, int]:
    """Staged rows by outcome (None: to be credited)."""
    counts: dict[str | None, int] = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + int(row["n"])
    return counts
