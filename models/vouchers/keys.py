"""Rotating the voucher keys: every code sealed again with the first key, so the old keys
can be dropped from VOUCHER_KEYS.

A code is sealed again by a conditional update (only if its sealed text is still the one
read), so a rotation may run beside redemptions and reveals, and again after a stop: a code
already sealed with the first key is sealed again harmlessly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from models import sql
from models.vouchers.seal import SealBroken, VoucherSeal

log = logging.getLogger("pointsmall.vouchers")
BATCH = 1_000

PAGE = "SELECT id, sealed FROM voucher_code WHERE id > $1 ORDER BY id LIMIT $2"
RESEALED = "UPDATE voucher_code SET sealed = $2 WHERE id = $1 AND sealed = $3"


@dataclass
class Resealed:
    """What a rotation did: codes sealed again, and the ids of codes no key opens."""

    resealed: int = 0
    broken: list[int] = field(default_factory=list)


async def reseal_all(*, seal: VoucherSeal, batch: int = BATCH) -> Resealed:
    """Seal every code again with the seal's first key, `batch` at a time; a code none of
    the keys opens is left as it is and reported (its key must come back first)."""
    done = Resealed()
    after = 0
    while rows := await sql.fetch(PAGE, after, batch):
        for row in rows:
            code_id, sealed = int(row["id"]), str(row["sealed"])
            try:
                fresh = seal.reseal(sealed)
            except SealBroken:
                log.error("voucher code %s: no voucher key opens it", code_id)
                done.broken.append(code_id)
                continue
            done.resealed += await sql.execute(RESEALED, code_id, fresh, sealed)
        after = int(rows[-1]["id"])
    return done
