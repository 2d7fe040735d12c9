"""The code pools' periodic work: a pool running low raises an alert, once.

Each pass counts the codes left in every active e-voucher's pool (unassigned, unexpired);
a pool at or under `low` is alerted once, as a WARNING line naming the gift and what is
left, and counted for /metrics; it is alerted again only after a refill brought it above
`low` and it ran down again. What was alerted is the worker's own memory: a restarted
worker, or each of several, says it once more.
"""

from __future__ import annotations

import logging
from datetime import datetime

from models import sql
from models.catalog.models import GiftKind
from models.jobs import Job

log = logging.getLogger("pointsmall.vouchers")

POOLS = f"""SELECT g.sku, COUNT(v.id) AS left_
FROM gift g LEFT JOIN voucher_code v
  ON v.gift_id = g.id AND v.order_line_id IS NULL AND v.expires_at > $1
WHERE g.kind = '{GiftKind.E_VOUCHER.value}' AND g.active
GROUP BY g.sku"""  # noqa: S608 (a constant)


def jobs(*, low: int) -> list[Job]:
    """The pools' jobs: the low-stock alert, at `low` codes left or fewer."""
    alerted: set[str] = set()

    async def low_pools(*, now: datetime) -> dict[str, int]:
        raised = 0
        for row in await sql.fetch(POOLS, now):
            sku, left = str(row["sku"]), int(row["left_"])
            if left > low:
                alerted.discard(sku)
            elif sku not in alerted:
                alerted.add(sku)
                raised += 1
                log.warning("e-voucher pool %s is low: %d codes left (alert at %d)", sku, left, low)
        return {"low_pools": raised}

    return [Job("voucher pools", {"low_pools": "pools low"}, low_pools)]
