"""Storing a batch of accruals on PostgreSQL with set-based SQL.

The batch is copied (asyncpg `copy_records_to_table`) into a temporary staging table that
dies with the transaction; a few statements then do per batch what `award` does per row:
refs already in the ledger are replays or conflicts, unknown members are created, the
accounts are locked in member order, rows that would take a balance past the ceiling are
left out as `award` would refuse them, the accounts are created or raised, and one statement
inserts the entries and their lots. Lookups probe indexes row by row, so a batch costs the
same however large the ledger has grown. Entries insert with `ON CONFLICT DO NOTHING`, so
a ref that a concurrent award wrote meanwhile is classified afterwards instead of failing
the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from models.points import rules
from models.points.accruals import Accrual, Stored, past_ceiling

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
# One pass finds each row's member, if known, and an earlier entry of its ref, if any.
LOOKUP = """
UPDATE points_import_staging AS s SET
    member_id = (SELECT m.id FROM member AS m WHERE m.external_id = s.member_external_id),
    outcome = (
        SELECT CASE
            WHEN m.external_id = s.member_external_id AND e.delta = s.amount
                 AND e.kind = 'EARN'
            THEN 'replayed' ELSE 'conflict' END
        FROM points_entry AS e JOIN member AS m ON m.id = e.member_id
        WHERE e.external_ref = s.external_ref
    )
"""

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

# The batch's existing accounts, locked in member order before their balances are read.
LOCK_ACCOUNTS = """
SELECT a.member_id FROM points_account AS a
WHERE a.member_id IN (SELECT member_id FROM points_import_staging WHERE outcome IS NULL)
ORDER BY a.member_id FOR UPDATE
"""

# Members whose balance the batch would take past the ceiling (almost always none), with
# their rows in file order, so that exactly the rows `award` would refuse are left out.
NEAR_CEILING = """
SELECT COALESCE(MAX(a.balance), 0) AS balance,
       array_agg(s.external_ref ORDER BY s.line) AS refs,
       array_agg(s.amount ORDER BY s.line) AS amounts
FROM points_import_staging AS s LEFT JOIN points_account AS a ON a.member_id = s.member_id
WHERE s.outcome IS NULL
GROUP BY s.member_id
HAVING COALESCE(MAX(a.balance), 0) + SUM(s.amount) > $1
"""

MARK_OVER_CEILING = """
UPDATE points_import_staging SET outcome = 'ceiling' WHERE external_ref = ANY($1::varchar[])
"""

# Creates, locks and raises the accounts in one statement, in member order (so two imports
# lock shared accounts in the same order), before any entry or lot is written.
RAISE_ACCOUNTS = """
INSERT INTO points_account AS a (member_id, balance, held, updated_at)
SELECT member_id, SUM(amount), 0, $1::timestamptz FROM points_import_staging
WHERE outcome IS NULL GROUP BY member_id ORDER BY member_id
ON CONFLICT (member_id) DO UPDATE
SET balance = a.balance + EXCLUDED.balance, updated_at = EXCLUDED.updated_at
"""

# Entries in file order, then their lots in entry order: what `award` writes.
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
UPDATE points_import_staging AS s SET outcome = 'imported'
FROM inserted AS i WHERE i.external_ref = s.external_ref
"""

# Rows whose ref a concurrent award wrote after LOOKUP: take back what was raised for them,
# then classify them as LOOKUP would have.
LOWER_ACCOUNTS = """
UPDATE points_account AS a SET balance = a.balance - t.total
FROM (
    SELECT member_id, SUM(amount) AS total FROM points_import_staging
    WHERE outcome IS NULL GROUP BY member_id
) AS t
WHERE a.member_id = t.member_id
"""

CLASSIFY_LEFT = """
UPDATE points_import_staging AS s SET outcome = (
    SELECT CASE
        WHEN m.external_id = s.member_external_id AND e.delta = s.amount AND e.kind = 'EARN'
        THEN 'replayed' ELSE 'conflict' END
    FROM points_entry AS e JOIN member AS m ON m.id = e.member_id
    WHERE e.external_ref = s.external_ref
)
WHERE s.outcome IS NULL
"""

COUNT_OUTCOMES = "SELECT outcome, COUNT(*) AS n FROM points_import_staging GROUP BY outcome"
CONFLICTS = "SELECT external_ref FROM points_import_staging WHERE outcome = 'conflict'"


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
    await connection.execute(LOOKUP)
    await connection.execute(CREATE_MEMBERS, now)
    await connection.execute(RESOLVE_NEW_MEMBERS)
    await connection.execute(LOCK_ACCOUNTS)
    over: set[str] = set()
    for member in await connection.fetch(NEAR_CEILING, rules.MAX_BALANCE):
        in_order = zip(member["refs"], member["amounts"], strict=True)
        over |= past_ceiling(int(member["balance"]), in_order)
    if over:
        await connection.execute(MARK_OVER_CEILING, sorted(over))
    await connection.execute(RAISE_ACCOUNTS, now)
    await connection.execute(CREDIT, now)
    counts = await _outcomes(connection)
    if counts.get(None):
        await connection.execute(LOWER_ACCOUNTS)
        await connection.execute(CLASSIFY_LEFT)
        counts = await _outcomes(connection)
    rows = await connection.fetch(CONFLICTS)
    return Stored(
        imported=counts.get("imported", 0),
        replayed=counts.get("replayed", 0),
        conflicting=frozenset(row["external_ref"] for row in rows),
        over_ceiling=frozenset(over),
    )


async def _outcomes(connection: Any) -> dict[str | None, int]:
    return {row["outcome"]: int(row["n"]) for row in await connection.fetch(COUNT_OUTCOMES)}
