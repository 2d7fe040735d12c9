"""The ledger's credit rules in set-based SQL: `credits.credit_many` for a staged batch.

The import's PostgreSQL form stages a batch of EARN credits in its temporary table
`points_import_staging` (`import_postgres.CREATE_STAGING`; `s` in the statements here),
gives each row its `member_id`, and sets `outcome` on the rows it will not credit, using
`REF_REUSE` for refs the ledger already holds. The statements below then do for every row
still without an outcome what `credit_many` does credit by credit, in a few round trips
whatever the batch's size: the accounts are opened or raised in member order (which locks
them), the rows past the balance ceiling are refused by `rules.past_ceiling` in line order
and taken back, the entries are written in line order and their lots in entry order.
The tests feed this form and `credit_many` the same files and compare the ledgers.

Each statement is written with named placeholders and bound by name where it runs here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from models.points import rules
from models.points.models import EntryKind
from models.points.rules import RefReuse
from models.sql import NamedStatement

CEILING = "ceiling"  # the outcome of a staged row refused for passing the balance ceiling

# `rules.reuse_of` for a staged credit whose ref the ledger already holds: the same member,
# delta and kind again replays the earlier entry, anything else conflicts (NULL: the ref is
# new). One index probe on the unique ref, whatever the size of the ledger.
REF_REUSE = f"""(
    SELECT CASE
        WHEN m.external_id = s.member_external_id AND e.delta = s.amount
             AND e.kind = '{EntryKind.EARN.value}'
        THEN '{RefReuse.REPLAYED.value}' ELSE '{RefReuse.CONFLICT.value}' END
    FROM points_entry AS e JOIN member AS m ON m.id = e.member_id
    WHERE e.external_ref = s.external_ref
)"""  # noqa: S608 (built from the enums' values, never from input)

# Creates, locks and raises the accounts in one statement, in member order (so two imports
# lock shared accounts in the same order), before any entry or lot is written. Returns the
# accounts the batch took past the ceiling (almost always none), with what they held before.
RAISE_ACCOUNTS = NamedStatement.of("""
WITH raised AS (
    INSERT INTO points_account AS a (member_id, balance, held, updated_at)
    SELECT member_id, SUM(amount), 0, $now::timestamptz FROM points_import_staging
    WHERE outcome IS NULL GROUP BY member_id ORDER BY member_id
    ON CONFLICT (member_id) DO UPDATE
    SET balance = a.balance + EXCLUDED.balance, updated_at = EXCLUDED.updated_at
    RETURNING a.member_id, a.balance
)
SELECT r.member_id, r.balance - t.total AS before,
       t.refs, t.amounts
FROM (SELECT * FROM raised WHERE balance > $ceiling) AS r
JOIN LATERAL (
    SELECT SUM(s.amount) AS total, array_agg(s.external_ref ORDER BY s.line) AS refs,
           array_agg(s.amount ORDER BY s.line) AS amounts
    FROM points_import_staging AS s WHERE s.outcome IS NULL AND s.member_id = r.member_id
) AS t ON TRUE
""")

# Rows left out after their accounts were raised: the ceiling's refused rows, or rows whose
# ref a concurrent award wrote after the import looked it up. Their amounts are taken back
# from the accounts (locked since RAISE_ACCOUNTS) and the rows are given the outcome
# `$outcome`, or, without one, classified by REF_REUSE.
LEAVE_OUT = NamedStatement.of(f"""
WITH left_out AS (
    UPDATE points_import_staging AS s SET outcome = COALESCE($outcome::varchar, {REF_REUSE})
    WHERE s.outcome IS NULL AND s.external_ref = ANY($refs::varchar[])
    RETURNING s.member_id, s.amount
)
UPDATE points_account AS a SET balance = a.balance - t.total
FROM (SELECT member_id, SUM(amount) AS total FROM left_out GROUP BY member_id) AS t
WHERE a.member_id = t.member_id
""")  # noqa: S608 (built from a constant)

# Entries in file order, then their lots in entry order: what `credit_many` writes. Returns
# the refs it did not credit: ones a concurrent award wrote meanwhile (almost always none).
CREDIT_STAGED = NamedStatement.of("""
WITH inserted AS (
    INSERT INTO points_entry
        (member_id, kind, delta, reason, external_ref, order_number, expires_at, created_at)
    SELECT member_id, 'EARN', amount, reason, external_ref, NULL, expires_at, $now::timestamptz
    FROM points_import_staging WHERE outcome IS NULL ORDER BY line
    ON CONFLICT (external_ref) DO NOTHING
    RETURNING id, member_id, delta, expires_at, external_ref
), lots AS (
    INSERT INTO points_lot (member_id, amount, remaining, held, expires_at, settled, created_at)
    SELECT member_id, delta, delta, 0, expires_at, FALSE, $now::timestamptz
    FROM inserted ORDER BY id
)
SELECT external_ref FROM points_import_staging WHERE outcome IS NULL
EXCEPT SELECT external_ref FROM inserted
""")


async def raise_staged_accounts(connection: Any, *, now: datetime) -> frozenset[str]:
    """Open or raise the accounts of the rows to credit, in member order; the refs refused
    for passing the ceiling, which are left out with the outcome CEILING."""
    over: set[str] = set()
    raised = RAISE_ACCOUNTS.args(now=now, ceiling=rules.MAX_BALANCE)
    for account in await connection.fetch(RAISE_ACCOUNTS.text, *raised):
        in_order = zip(account["refs"], account["amounts"], strict=True)
        over |= rules.past_ceiling(int(account["before"]), in_order)
    if over:
        await leave_out_staged(connection, sorted(over), outcome=CEILING)
    return frozenset(over)


async def credit_staged(connection: Any, *, now: datetime) -> list[str]:
    """Write the entries and lots of the rows to credit; the refs a concurrent award wrote
    meanwhile, which are left out and classified instead."""
    rows = await connection.fetch(CREDIT_STAGED.text, *CREDIT_STAGED.args(now=now))
    missed = [row["external_ref"] for row in rows]
    if missed:
        await leave_out_staged(connection, missed, outcome=None)
    return missed


async def leave_out_staged(connection: Any, refs: Sequence[str], *, outcome: str | None) -> None:
    """Take the rows of `refs` back from their raised accounts, with `outcome` (None: as
    REF_REUSE classifies them)."""
    await connection.execute(LEAVE_OUT.text, *LEAVE_OUT.args(refs=list(refs), outcome=outcome))
