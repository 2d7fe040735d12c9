"""The ledger's credit rules in their PostgreSQL form answer as their Python form does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise import connections

from models.members.models import Member
from models.points import rules
from models.points.credits_postgres import REF_REUSE
from models.points.models import EntryKind, PointsEntry
from tests.support.databases import target

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(target() != "postgres", reason="the set-based form is PostgreSQL's"),
]

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)

# The ledger's entries: ref -> (member, delta, kind).
EARLIER = {
    "earn": ("C1", 100, EntryKind.EARN),
    "adjust-up": ("C1", 100, EntryKind.ADJUST),
    "adjust-down": ("C1", -100, EntryKind.ADJUST),
    "compensation": ("C1", 100, EntryKind.COMPENSATION),
}
# A staged EARN credit: (member, amount, ref).
WANTED = [
    ("C1", 100, "earn"),
    ("C2", 100, "earn"),
    ("C1", 99, "earn"),
    ("C1", 100, "adjust-up"),
    ("C1", 100, "adjust-down"),
    ("C1", -100, "adjust-down"),
    ("C1", 100, "compensation"),
    ("C1", 100, "new"),
]


def python_form(member: str, amount: int, ref: str) -> str | None:
    if ref not in EARLIER:
        return None
    earlier = rules.RefUse(*EARLIER[ref])
    return rules.reuse_of(earlier, rules.RefUse(member, amount, EntryKind.EARN)).value


async def test_a_staged_refs_reuse_is_classified_as_rules_reuse_of_classifies_it(db: str) -> None:
    members = {name: await Member.create(external_id=name) for name in ["C1", "C2"]}
    for ref, (member, delta, kind) in EARLIER.items():
        await PointsEntry.create(
            member=members[member], kind=kind, delta=delta, external_ref=ref, created_at=NOW
        )
    rows = await connections.get("default").execute_query_dict(
        f"""
        SELECT s.n, {REF_REUSE} AS reuse
        FROM unnest($1::varchar[], $2::bigint[], $3::varchar[])
            WITH ORDINALITY AS s (member_external_id, amount, external_ref, n)
        ORDER BY s.n
        """,
        [[m for m, _, _ in WANTED], [a for _, a, _ in WANTED], [r for _, _, r in WANTED]],
    )
    assert [row["reuse"] for row in rows] == [python_form(*wanted) for wanted in WANTED]
    assert [python_form(*wanted) for wanted in WANTED].count("replayed") == 1
