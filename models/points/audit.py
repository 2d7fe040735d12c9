"""The ledger audit: every member's account agrees with their entries, lots and holds.

For every member: balance = sum of entries = sum of lots' remaining; held = sum of open
holds = sum of lots' held; 0 <= lot.held <= lot.remaining <= lot.amount; 0 <= held <=
balance. One set-based query (per-table GROUP BYs, UNION ALL, GROUP BY again) answers it
for all members at once and returns only the members that disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.points.models import PointsAccount

AUDIT_SQL = """
SELECT t.member_id AS member_id, m.external_id AS external_id,
       SUM(t.balance) AS balance, SUM(t.held) AS held, SUM(t.entries) AS entries,
       SUM(t.lots_remaining) AS lots_remaining, SUM(t.lots_held) AS lots_held,
       SUM(t.open_holds) AS open_holds, SUM(t.bad_lots) AS bad_lots
FROM (
    SELECT member_id, balance, held, 0 AS entries, 0 AS lots_remaining, 0 AS lots_held,
           0 AS open_holds, 0 AS bad_lots
    FROM points_account
    UNION ALL
    SELECT member_id, 0, 0, SUM(delta), 0, 0, 0, 0 FROM points_entry GROUP BY member_id
    UNION ALL
    SELECT member_id, 0, 0, 0, SUM(remaining), SUM(held), 0,
           SUM(CASE WHEN held < 0 OR held > remaining OR remaining > amount THEN 1 ELSE 0 END)
    FROM points_lot GROUP BY member_id
    UNION ALL
    SELECT member_id, 0, 0, 0, 0, 0, SUM(amount), 0
    FROM points_hold WHERE status = 'OPEN' GROUP BY member_id
) AS t
JOIN member AS m ON m.id = t.member_id
GROUP BY t.member_id, m.external_id
HAVING SUM(t.balance) <> SUM(t.entries)
    OR SUM(t.balance) <> SUM(t.lots_remaining)
    OR SUM(t.held) <> SUM(t.open_holds)
    OR SUM(t.held) <> SUM(t.lots_held)
    OR SUM(t.bad_lots) > 0
    OR SUM(t.held) < 0
    OR SUM(t.held) > SUM(t.balance)
ORDER BY t.member_id
"""


@dataclass(frozen=True)
class Discrepancy:
    """One member whose account disagrees with the ledger, and the figures that disagree."""

    member_id: int
    external_id: str
    balance: int
    held: int
    entries: int
    lots_remaining: int
    lots_held: int
    open_holds: int
    bad_lots: int

    @property
    def problems(self) -> list[str]:
        checks = [
            (self.balance != self.entries, f"balance {self.balance} != entries {self.entries}"),
            (
                self.balance != self.lots_remaining,
                f"balance {self.balance} != lots remaining {self.lots_remaining}",
            ),
            (self.held != self.open_holds, f"held {self.held} != open holds {self.open_holds}"),
            (self.held != self.lots_held, f"held {self.held} != lots held {self.lots_held}"),
            (self.bad_lots > 0, f"{self.bad_lots} lots outside 0 <= held <= remaining <= amount"),
            (self.held < 0, f"held {self.held} is negative"),
            (self.held > self.balance, f"available {self.balance - self.held} is negative"),
        ]
        return [text for failed, text in checks if failed]

    def describe(self) -> str:
        return f"{self.external_id} (member {self.member_id}): " + "; ".join(self.problems)


async def audit() -> list[Discrepancy]:
    """Every member whose account disagrees with their entries, lots or holds."""
    rows = await PointsAccount._meta.db.execute_query_dict(AUDIT_SQL)
    return [
        Discrepancy(
            member_id=int(row["member_id"]),
            external_id=str(row["external_id"]),
            **{name: int(row[name]) for name in _FIGURES},
        )
        for row in rows
    ]


_FIGURES = ("balance", "held", "entries", "lots_remaining", "lots_held", "open_holds", "bad_lots")
