"""Row 14: an e-voucher flash sale. 64 clients redeem one e-voucher whose pool holds
`sizes.voucher_codes` codes; the floor does the same work (debit, order, line, the pool's
next code by `SKIP LOCKED`) at 2 clients. Afterwards every order placed in the sale must
hold exactly one code, and no code two lines.

The sale's gift and its pool are made on first use in the main data set and put on sale
for the row only (inactive otherwise, so the other rows' catalogs never see it); a rerun
gives every code back first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.fernet import Fernet

from api.settings import DEV_VOUCHER_DIGEST_KEY, DEV_VOUCHER_KEY
from benchmarks import load
from benchmarks.dataset import dsn
from benchmarks.http_rows import Series, settle
from benchmarks.servers import serving
from benchmarks.sizes import VOUCHER_PRICE, VOUCHER_SKU, Sizes
from benchmarks.workloads import Scripts

GIFT = f"""
INSERT INTO gift (sku, name, description, image_url, category_id, points_price, cash_price,
                  currency, limit_per_member, active, created_at, updated_at, kind, partner,
                  instructions)
VALUES ('{VOUCHER_SKU}', 'Flash sale: coffee e-voucher', 'Today only.',
        'https://img.example.com/gifts/flash.jpg', 1, {VOUCHER_PRICE}, NULL, 'CNY', NULL,
        false, $1, $1, 'E_VOUCHER', 'Luckin Coffee', 'Show the code at the counter')
ON CONFLICT (sku) DO NOTHING
"""
GIVE_BACK = """UPDATE voucher_code SET order_line_id = NULL, assigned_at = NULL
WHERE gift_id = $1 AND order_line_id IS NOT NULL"""
ON_SALE = "UPDATE gift SET active = $2 WHERE sku = $1"


async def _open_sale(url: str, codes: int) -> datetime:
    """The sale's gift with `codes` free codes, on sale; when the sale began."""
    db = await asyncpg.connect(dsn(url))
    try:
        now = datetime.now(UTC)
        await db.execute(GIFT, now)
        gift_id = await db.fetchval("SELECT id FROM gift WHERE sku = $1", VOUCHER_SKU)
        await db.execute(GIVE_BACK, gift_id)
        have = await db.fetchval("SELECT count(*) FROM voucher_code WHERE gift_id = $1", gift_id)
        if have < codes:
            await db.copy_records_to_table(
                "voucher_code",
                columns=["gift_id", "sealed", "digest", "expires_at", "imported_at"],
                records=_codes(gift_id, range(have, codes), now),
            )
        await db.execute(ON_SALE, VOUCHER_SKU, True)
        await db.execute("VACUUM ANALYZE voucher_code")
        return now
    finally:
        await db.close()


def _codes(gift_id: int, numbers: range, now: datetime) -> list[tuple[Any, ...]]:
    """Codes sealed as the service seals them (its development keys)."""
    fernet, key = Fernet(DEV_VOUCHER_KEY), DEV_VOUCHER_DIGEST_KEY.encode()
    expires = now + timedelta(days=180)
    rows = []
    for n in numbers:
        code = f"FLASH-{n:07d}"
        digest = hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
        rows.append((gift_id, fernet.encrypt(code.encode()).decode(), digest, expires, now))
    return rows


CHECKS = f"""
SELECT
  (SELECT count(*) FROM order_line l JOIN redemption_order o ON o.id = l.order_id
   WHERE l.sku = '{VOUCHER_SKU}' AND o.placed_at >= $1) AS orders,
  (SELECT count(*) FROM order_line l JOIN redemption_order o ON o.id = l.order_id
   WHERE l.sku = '{VOUCHER_SKU}' AND o.placed_at >= $1
     AND NOT EXISTS (SELECT 1 FROM voucher_code v WHERE v.order_line_id = l.id)) AS without,
  (SELECT count(order_line_id) - count(DISTINCT order_line_id) FROM voucher_code
   WHERE order_line_id IS NOT NULL) AS twice,
  (SELECT count(*) FROM voucher_code v JOIN gift g ON g.id = v.gift_id
   WHERE g.sku = '{VOUCHER_SKU}' AND v.order_line_id IS NOT NULL) AS assigned
"""


async def _close_sale(url: str, began: datetime) -> dict[str, int]:
    db = await asyncpg.connect(dsn(url))
    try:
        row = await db.fetchrow(CHECKS, began)
        await db.execute(ON_SALE, VOUCHER_SKU, False)
        return {key: int(row[key]) for key in ("orders", "without", "twice", "assigned")}
    finally:
        await db.close()


def voucher_rows(
    database_url: str, sizes: Sizes, scripts: Scripts, logs: Path, repeat: int
) -> dict[str, Any]:
    """Row 14: the sale's orders/s, service at 64 clients and floor at 2, and its checks."""
    began = asyncio.run(_open_sale(database_url, sizes.voucher_codes))
    found: dict[str, Any] = {k: Series() for k in ("voucher_64", "floor_voucher_2")}
    service_tokens = str(scripts.token_file("redeemers"))
    floor_tokens = str(scripts.token_file("floor-redeemers", floor=True))
    run_id = uuid.uuid4().hex[:8]
    offset = 0
    try:
        with (
            serving("service", database_url, logs) as service,
            serving("floor", database_url, logs) as floor,
        ):
            plan = [
                ("voucher_64", service, scripts.redeem(sku=VOUCHER_SKU), 64, service_tokens),
                (
                    "floor_voucher_2",
                    floor,
                    scripts.floor_redeem(sku=VOUCHER_SKU, path="/redeem-voucher"),
                    2,
                    floor_tokens,
                ),
            ]
            for rep in range(-1 if sizes.warmup_seconds else 0, repeat):
                for name, server, script, clients, token_file in plan:
                    settle(database_url)
                    args = (token_file, str(offset), f"{run_id}-{name}-{rep}")
                    seconds = sizes.warmup_seconds if rep < 0 else sizes.seconds
                    outcome = load.run(
                        script, server.url, connections=clients, seconds=seconds, args=args
                    )
                    offset += outcome.requests
                    if rep < 0:
                        continue
                    found[name].samples.append(outcome.rate)
                    print(
                        f"  {name}: {outcome.rate:,.0f} orders/s "
                        f"(p50 {outcome.p50_ms:.1f} ms, p99 {outcome.p99_ms:.1f} ms, "
                        f"{outcome.bad} refused)"
                    )
    finally:
        checks = asyncio.run(_close_sale(database_url, began))
    found["voucher_checks"] = checks
    print(
        f"  sale: {checks['orders']:,} orders, {checks['assigned']:,} codes assigned, "
        f"{checks['without']} orders without a code, {checks['twice']} codes on two lines"
    )
    return found
