"""Codes to order lines: assigned in the order's transaction, given back, revealed.

This module owns every update of `voucher_code` after its import and every row of
`voucher_reveal`. A line takes the pool's code that expires first; on PostgreSQL the claim
passes over codes another order's transaction holds (`FOR UPDATE SKIP LOCKED`), so a flash
sale's orders never queue on one code, and the unique `order_line_id` holds that one code
goes to one line however the transactions race. SQLite has one writer at a time: the same
statement without the lock clause. A line's code goes back to the pool when the line is
cancelled or refunded, unless its owner has seen it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models import sql
from models.errors import CodeUnavailable
from models.vouchers.seal import SealBroken, VoucherSeal

log = logging.getLogger("pointsmall.vouchers")


@dataclass(frozen=True)
class CodeOfLine:
    """A line's code as its owner sees it, with what the gift says of its use."""

    line_id: int
    code: str
    expires_at: datetime
    partner: str
    instructions: str


def _assign_text(p: sql.Params, *, line_id: int, gift_id: int, now: datetime) -> str:
    lock = " FOR UPDATE SKIP LOCKED" if sql.on_postgres() else ""
    at = p(now, "timestamptz")
    return f"""UPDATE voucher_code SET order_line_id = {p(line_id, "bigint")}, assigned_at = {at}
    WHERE id = (SELECT id FROM voucher_code
                WHERE gift_id = {p(gift_id, "bigint")} AND order_line_id IS NULL
                  AND expires_at > {at}
                ORDER BY expires_at, id LIMIT 1{lock})
    RETURNING id, expires_at"""  # noqa: S608 (placeholders and constants only)


async def assign(*, lines: Sequence[tuple[int, int]], now: datetime) -> list[datetime] | None:
    """Give each (line id, gift id) a code of its gift's pool, in the caller's transaction:
    the codes' expiry dates, line by line, or None when a pool has no code left (the caller
    rolls the order back)."""
    expiries = []
    for line_id, gift_id in lines:
        p = sql.Params()
        text = _assign_text(p, line_id=line_id, gift_id=gift_id, now=now)
        rows = await sql.fetch(text, *p.values)
        if not rows:
            return None
        expiries.append(sql.moment(rows[0]["expires_at"]))
    return expiries


GIVE_BACK = """UPDATE voucher_code SET order_line_id = NULL, assigned_at = NULL
WHERE revealed_at IS NULL
  AND order_line_id IN (SELECT id FROM order_line WHERE order_id = $1{lines})"""


async def give_back(*, order_id: int, skus: Sequence[str] | None = None) -> int:
    """The codes of the order's lines (those of `skus`, or all) that its member never saw go
    back to their pools; how many did. A code once shown stays with its line."""
    if skus is None:
        return await sql.execute(GIVE_BACK.format(lines=""), order_id)
    if not skus:
        return 0
    lines = f" AND sku IN ({sql.listed(len(skus), first=2)})"
    return await sql.execute(GIVE_BACK.format(lines=lines), order_id, *skus)


CODES_OF_LINES = """SELECT v.id, v.order_line_id, v.sealed, v.expires_at, g.partner,
       g.instructions, o.member_id
FROM voucher_code v JOIN gift g ON g.id = v.gift_id
JOIN order_line l ON l.id = v.order_line_id JOIN redemption_order o ON o.id = l.order_id
JOIN member m ON m.id = o.member_id AND m.external_id = $1
WHERE v.order_line_id IN ({lines})"""
# The showing takes the code's row first, still on its line: a cancel racing it either gave
# the code back before (nothing is shown) or waits and then keeps it (it has been seen).
REVEALED = """UPDATE voucher_code SET revealed_at = coalesce(revealed_at, $2)
WHERE id = $1 AND order_line_id = $3 RETURNING id"""
LOGGED = "INSERT INTO voucher_reveal (code_id, member_id, revealed_at) VALUES ($1, $2, $3)"


async def reveal(
    *, line_ids: Sequence[int], member_external_id: str, seal: VoucherSeal, now: datetime
) -> dict[int, CodeOfLine]:
    """The codes of those lines that are on the member's own orders, opened; each showing
    logged, the first one marked on the code (from then on it never goes back to a pool).
    Raises CodeUnavailable when no voucher key opens a code."""
    if not line_ids:
        return {}
    text = CODES_OF_LINES.format(lines=sql.listed(len(line_ids), first=2))
    rows = await sql.fetch(text, member_external_id, *line_ids)
    shown: dict[int, CodeOfLine] = {}
    for row in rows:
        line_id = int(row["order_line_id"])
        if not await sql.fetch(REVEALED, row["id"], now, line_id):
            continue  # given back to its pool since it was read: not the member's any more
        try:
            code = seal.open(str(row["sealed"]))
        except SealBroken as exc:
            log.error("voucher code %s: no voucher key opens it", row["id"])
            raise CodeUnavailable(
                "this code cannot be shown right now; it is kept for you", field="voucher"
            ) from exc
        shown[line_id] = CodeOfLine(
            line_id,
            code,
            sql.moment(row["expires_at"]),
            str(row["partner"]),
            str(row["instructions"]),
        )
        await sql.execute(LOGGED, row["id"], row["member_id"], now)
    return shown
