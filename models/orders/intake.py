"""What a redemption reads before it writes: the member, an order already placed with the
request's key, and the gifts of its lines, in one statement.

On PostgreSQL the same statement takes the member's account lock (`points.lock_step`)
rather than a statement of its own: the lock is the member's (only the same member's
requests queue on it), and the order's hot rows are still taken last. A request that
waited here for a twin sees the twin's order only in its next statement; the order's
unique (member, key) catches it then. On SQLite the transaction already holds the
database's write lock (BEGIN IMMEDIATE).

Taking the lock also switches the rest of the order's transaction to generic plans
(`sql.POSTGRES_GENERIC_PLANS_FOR_THIS_TRANSACTION`): every statement after this one finds
its rows by key, and the order's own statement, long as it is, would otherwise be planned
afresh for every order. A member without an account yet is locked by `lock_account`
instead and keeps the custom plans for that one order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from models import sql
from models.catalog.models import Gift
from models.errors import GiftInactive, IdempotencyConflict, NotFound
from models.members.models import Member
from models.members.service import ensure_member
from models.orders import rules
from models.orders.models import Order
from models.points import service as points

GIFT_COLUMN = "gift."  # the gifts' columns come back named `gift.<column>`


@dataclass(frozen=True)
class Intake:
    """The first read of a redemption."""

    member: Member
    replay: Order | None
    gifts: dict[str, Gift]
    account_locked: bool


@lru_cache(maxsize=1)
def _gift_columns() -> str:
    columns = Gift._meta.fields_db_projection.values()  # complete once Tortoise is set up
    return ", ".join(f'g.{c} AS "{GIFT_COLUMN}{c}"' for c in columns)


def _intake_text(p: sql.Params, *, external_id: str, key: str, skus: Sequence[str]) -> str:
    member = p(external_id)
    replay_key = p(key)
    gifts = ", ".join(p(sku) for sku in skus)
    if sql.on_postgres():
        lock = points.lock_step(
            member_external_id=member, also=sql.POSTGRES_GENERIC_PLANS_FOR_THIS_TRANSACTION
        )
        locked, account = f"WITH locked AS ({lock})", "(SELECT id FROM locked)"
    else:
        locked, account = "", "(SELECT a.id FROM points_account a WHERE a.member_id = m.id)"
    return f"""{locked}
SELECT m.*, {account} AS account_id, o.id AS replay_id,
       o.request_fingerprint AS replay_fingerprint, {_gift_columns()}
FROM member m
LEFT JOIN redemption_order o ON o.member_id = m.id AND o.idempotency_key = {replay_key}
LEFT JOIN gift g ON g.sku IN ({gifts})
WHERE m.external_id = {member}
"""  # noqa: S608 (placeholders, never values)


async def intake(
    *, external_id: str, key: str, fingerprint: str, lines: Sequence[rules.LineRequest]
) -> Intake:
    """The member (created on first sight) with their account locked if they have one, the
    order already placed with this key, and the lines' gifts; raises IdempotencyConflict,
    NotFound or GiftInactive."""
    p = sql.Params()
    skus = sorted({line.sku for line in lines})
    rows = await sql.fetch(_intake_text(p, external_id=external_id, key=key, skus=skus), *p.values)
    if not rows:  # a new member has no orders yet, nor an account
        member = await ensure_member(external_id=external_id)
        return Intake(member, None, await _gifts(lines), account_locked=False)
    row = rows[0]
    member = sql.model(Member, row)
    locked = row["account_id"] is not None
    if row["replay_id"] is not None:
        if row["replay_fingerprint"] != fingerprint:
            raise key_conflict()
        return Intake(member, await Order.get(id=row["replay_id"]), {}, locked)
    found = [
        sql.model(
            Gift, {k[len(GIFT_COLUMN) :]: v for k, v in r.items() if k.startswith(GIFT_COLUMN)}
        )
        for r in rows
        if r[f"{GIFT_COLUMN}id"] is not None
    ]
    return Intake(member, None, checked_gifts(lines, found), locked)


def key_conflict() -> IdempotencyConflict:
    return IdempotencyConflict(
        "this idempotencyKey was used for different lines", field="idempotency_key"
    )


REPLAY = """
SELECT id, request_fingerprint FROM redemption_order WHERE member_id = $1 AND idempotency_key = $2
"""


async def replay(*, member_id: int, key: str, fingerprint: str) -> Order | None:
    """The member's order placed with this key, if any; raises IdempotencyConflict."""
    found = await sql.fetch_one(REPLAY, member_id, key)
    if found is None:
        return None
    if found["request_fingerprint"] != fingerprint:
        raise key_conflict()
    return await Order.get(id=found["id"])


GIFTS = "SELECT * FROM gift WHERE sku IN ({skus})"


async def _gifts(lines: Sequence[rules.LineRequest]) -> dict[str, Gift]:
    skus = [line.sku for line in lines]
    rows = await sql.fetch(GIFTS.format(skus=sql.listed(len(skus))), *skus)
    return checked_gifts(lines, [sql.model(Gift, row) for row in rows])


def checked_gifts(lines: Sequence[rules.LineRequest], found: Sequence[Gift]) -> dict[str, Gift]:
    """The lines' gifts by SKU; raises NotFound or GiftInactive for the first line without."""
    gifts = {g.sku: g for g in found}
    for index, line in enumerate(lines):
        gift = gifts.get(line.sku)
        if gift is None:
            raise NotFound(f"no gift {line.sku!r}", field=f"lines.{index}.sku")
        if not gift.active:
            raise GiftInactive(f"{line.sku} is no longer offered", field=f"lines.{index}.sku")
    return gifts
