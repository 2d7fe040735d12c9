"""Storing a batch of accruals on PostgreSQL with set-based SQL.

The batch is copied (asyncpg `copy_records_to_table`) into a temporary staging table that
dies with the transaction; a few statements then do per batch what `award` does per row:
refs already in the ledger are replays or conflicts, unknown members are created, the
accounts are created or raised in member order (which locks them), and one statement
inserts the entries and their lots. Lookups probe indexes row by row, so a batch costs the
same however large the ledger has grown. The rare exceptions are taken back afterwards, in
the same transaction, rather than looked for beforehand: rows that took a balance past the
ceiling are left out exactly as `award` would refuse them, and entries insert with
`ON CONFLICT DO NOTHING`, so a ref that a concurrent award wrote meanwhile is classified
afterwards instead of failing the batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from models.points import rules
from models.points.accruals import Accrual, Stored
from models.points.credits_postgres import REF_REUSE
from models.points.rules import RefReuse

STAGED_COLUMNS = ("line", "member_external_id", "amount", "external_ref", "reason", "expires_at")

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

CREATE_MEMBERS = """
INSERT INTO member (external_id, display_name, tier, created_at, updated_at)
SELECT DISTINCT member_external_id, '', 'STANDARD', $1::timestamptz, $1::timestamptz
FROM points_import_staging WHERE outcome IS NULL AND member_id IS NULL
ORDER BY member_external_id
ON CONFLICT (external_id) DO NOTHING
"""

RESOLVE_NEW_MEMBERS = """
UPDATE points_import_staging AS s
SET member_id = (SELECT m.id FROM member AS m WHERE m.external_id = s.member_external_id)
WHERE s.outcome IS NULL AND s.member_id IS NULL
"""

# Creates, locks and raises the accounts in one statement, in member order (so two imports
# lock shared accounts in the same order), before any entry or lot is written. Returns the
# accounts the batch took past the ceiling (almost always none), with what they held before.
RAISE_ACCOUNTS = """
WITH raised AS (
    INSERT INTO points_account AS a (member_id, balance, held, updated_at)
    SELECT member_id, SUM(amount), 0, $1::timestamptz FROM points_import_staging
    WHERE outcome IS NULL GROUP BY member_id ORDER BY member_id
    ON CONFLICT (member_id) DO UPDATE
    SET balance = a.balance + EXCLUDED.balance, updated_at = EXCLUDED.updated_at
    RETURNING a.member_id, a.balance
)
SELECT r.member_id, r.balance - t.total AS before,
       t.refs, t.amounts
FROM (SELECT * FROM raised WHERE balance > $2) AS r
JOIN LATERAL (
    SELECT SUM(s.amount) AS total, array_agg(s.external_ref ORDER BY s.line) AS refs,
           array_agg(s.amount ORDER BY s.line) AS amounts
    FROM points_import_staging AS s WHERE s.outcome IS NULL AND s.member_id = r.member_id
) AS t ON TRUE
"""

# Rows left out after their accounts were raised: the ceiling's refused rows, or rows whose
# ref a concurrent award wrote after LOOKUP. Their amounts are taken back from the accounts
# (locked since RAISE_ACCOUNTS) and the rows are given the outcome `$2`, or, without one,
# classified as LOOKUP would have.
LEAVE_OUT = f"""
WITH left_out AS (
    UPDATE points_import_staging AS s SET outcome = COALESCE($2::varchar, {REF_REUSE})
    WHERE s.outcome IS NULL AND s.external_ref = ANY($1::varchar[])
    RETURNING s.member_id, s.amount
)
UPDATE points_account AS a SET balance = a.balance - t.total
FROM (SELECT member_id, SUM(amount) AS total FROM left_out GROUP BY member_id) AS t
WHERE a.member_id = t.member_id
"""  # noqa: S608 (built from a constant)

# Entries in file order, then their lots in entry order: what `award` writes. Returns the
# refs it did not credit: ones a concurrent award wrote after LOOKUP (almost always none).
CREDIT = """
WITH inserted AS (
    INSERT INTO points_entry
        (member_id, kind, delta, reason, external_ref, order_number, expires_at, created_at)
    SELECT member_id, 'EARN', amount, reason, external_ref, NULL, expires_at, $1::timestamptz
    FROM points_import_staging WHERE outcome IS NULL ORDER BY line
    ON CONFLICT (external_ref) DO NOTHING
    RETURNING id, member_id, delta, expires_at, external_ref
), lots AS (
    INSERT INTO points_lot (member_id, amount, remaining, held, expires_at, settled, created_at)
    SELECT member_id, delta, delta, 0, expires_at, FALSE, $1::timestamptz
    FROM inserted ORDER BY id
)
SELECT external_ref FROM points_import_staging WHERE outcome IS NULL
EXCEPT SELECT external_ref FROM inserted
"""

COUNT_OUTCOMES = "SELECT outcome, COUNT(*) AS n FROM points_import_staging GROUP BY outcome"
CONFLICTS = f"""
SELECT external_ref FROM points_import_staging WHERE outcome = '{RefReuse.CONFLICT.value}'
"""  # noqa: S608 (built from a constant)


async def store_batch(connection: Any, accruals: Sequence[Accrual], *, now: datetime) -> Stored:
    """Store one batch of distinct refs on the transaction's raw asyncpg connection."""
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
        await connection.execute(CREATE_MEMBERS, now)
        await connection.execute(RESOLVE_NEW_MEMBERS)
    over: set[str] = set()
    for account in await connection.fetch(RAISE_ACCOUNTS, now, rules.MAX_BALANCE):
        in_order = zip(account["refs"], account["amounts"], strict=True)
        over |= rules.past_ceiling(int(account["before"]), in_order)
    if over:
        await connection.execute(LEAVE_OUT, sorted(over), "ceiling")
    missed = [row["external_ref"] for row in await connection.fetch(CREDIT, now)]
    counts = _counts(found)
    imported = counts.get(None, 0) - len(over)
    if missed:
        await connection.execute(LEAVE_OUT, missed, None)
        counts = _counts(await connection.fetch(COUNT_OUTCOMES))
        imported = counts.get(None, 0)
    conflicting = await connection.fetch(CONFLICTS) if counts.get(RefReuse.CONFLICT) else []
    return Stored(
        imported=imported,
        replayed=counts.get(RefReuse.REPLAYED, 0),
        conflicting=frozenset(row["external_ref"] for row in conflicting),
        over_ceiling=frozenset(over),
    )


def _counts(rows: Sequence[Any]) -> dict[str | None, int]:
    """Staged rows by outcome (None: to be credited)."""
    counts: dict[str | None, int] = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + int(row["n"])
    return counts
