"""Row 15: top-ups delivered. `sizes.top_up_lines` PENDING top-up lines, one an order, are
sent through the tests' charging system (`tests.fakes.charging`, a process of its own)
while it cuts off 5 % of its answers, by `deliver_round` in-process, several round loops at
once as several workers would; lines/s from the first round to the last line's end. The
bound beside it: the same number of credits sent by `ChargingClient` alone, no database,
to a charging system of its own (fresh counters, the same lost answers). Afterwards (15b)
every line must be DELIVERED and no key credited twice.

A lost answer is looked at again after 1 s here (production waits 5 s before its first
status query, which only moves the last lines' end later). The lines' points are not
debited: with lost answers only every line ends DELIVERED, so no refund runs (one would
fail, finding no REDEEM entry to give back).

The lines belong to a gift of the main data set made on first use, inactive so the other
rows' catalogs never see it; a run deletes the previous run's lines, orders and their
notices first, and its own afterwards (so no message of it waits for row 10's worker).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from benchmarks.dataset import dsn
from benchmarks.inproc_rows import orm
from benchmarks.servers import POOL, charging_system
from benchmarks.sizes import TOP_UP_SKU, Sizes
from models import sql
from models.topups import delivery, rules
from models.topups.charging import ChargingClient, ChargingConfig
from models.topups.ports import TopUpOutcome, TopUpProduct, TopUpRequest

SECRET = "bench-charging-secret"
FACE_VALUE = 1000  # fen: ¥10
PRICE = 1000
LOST = 0.05
LOOPS = 3  # round loops at once, as that many worker tasks
# A lost answer's status query 1 s later, then the production waits after it.
WAITS = (timedelta(seconds=1), *rules.WAITS[1:])
WITHIN = timedelta(minutes=10)  # the lines' promise: no line reaches it in the row
IDLE = 0.05  # seconds a loop waits after a round that found nothing due

GIFT = f"""
INSERT INTO gift (sku, name, description, image_url, category_id, points_price, cash_price,
                  currency, limit_per_member, active, created_at, updated_at, kind,
                  face_value, top_up_product)
VALUES ('{TOP_UP_SKU}', 'Phone credit ¥10', 'Straight to your phone.',
        'https://img.example.com/gifts/credit.jpg', 1, {PRICE}, NULL, 'CNY', NULL,
        false, $1, $1, 'TOP_UP', {FACE_VALUE}, 'CREDIT')
ON CONFLICT (sku) DO NOTHING
"""
# The previous run's lines and what they wrote, in the order the foreign keys allow.
ORDERS = "SELECT coalesce(array_agg(order_id), '{}') FROM top_up WHERE gift_id = $1"
CLEAR = (
    "DELETE FROM notification WHERE order_id = ANY($1::bigint[])",
    "DELETE FROM top_up WHERE order_id = ANY($1::bigint[])",
    "DELETE FROM order_line WHERE order_id = ANY($1::bigint[])",
    "DELETE FROM redemption_order WHERE id = ANY($1::bigint[])",
)
LINES = f"""
WITH m AS (SELECT id, row_number() OVER (ORDER BY id) AS r FROM member ORDER BY id LIMIT $2),
n AS (SELECT n, m.id AS member_id FROM generate_series(1, $1) n
      JOIN m ON m.r = 1 + (n - 1) % $2),
o AS (
  INSERT INTO redemption_order (number, status, idempotency_key, request_fingerprint,
      points_total, cash_total, currency, placed_at, confirmed_at, cancel_reason, recipient,
      phone, province, city, district, line1, line2, postal_code, updated_at, member_id,
      warehouse_id)
  SELECT $3 || lpad(n::text, 6, '0'), 'CONFIRMED', $3 || n, '', {PRICE}, NULL, 'CNY', $4, $4,
         '', '', '+86138' || lpad(n::text, 8, '0'), '', '', '', '', '', '', $4, member_id, NULL
  FROM n
  RETURNING id, member_id, phone),
l AS (
  INSERT INTO order_line (order_id, gift_id, sku, name, quantity, points_each, cash_each)
  SELECT o.id, $5, '{TOP_UP_SKU}', 'Phone credit ¥10', 1, {PRICE}, NULL FROM o
  RETURNING id, order_id)
INSERT INTO top_up (order_line_id, order_id, member_id, gift_id, msisdn, product, face_value,
    status, attempts, created_at, next_try_at, deliver_by, at_risk_at, reason, transaction_id,
    budget_day)
SELECT l.id, o.id, o.member_id, $5, o.phone, 'CREDIT', {FACE_VALUE}, 'PENDING', 0, $4, $4,
       $4 + $6::interval, $4 + $6::interval * {rules.AT_RISK_SHARE}, '', '', $7
FROM l JOIN o ON o.id = l.order_id
"""
STATUSES = "SELECT status, count(*) AS n FROM top_up WHERE gift_id = $1 GROUP BY status"
PENDING = "SELECT count(*) AS n FROM top_up WHERE gift_id = $1 AND status = 'PENDING'"


async def _clear(db: asyncpg.Connection, gift_id: int) -> None:
    async with db.transaction():
        orders = await db.fetchval(ORDERS, gift_id)
        for text in CLEAR:
            await db.execute(text, orders)


async def _seed(url: str, lines: int) -> int:
    """`lines` PENDING top-ups due now, for the data set's first members; the gift's id."""
    db = await asyncpg.connect(dsn(url))
    try:
        now = datetime.now(UTC)
        await db.execute(GIFT, now)
        gift_id = int(await db.fetchval("SELECT id FROM gift WHERE sku = $1", TOP_UP_SKU))
        await _clear(db, gift_id)
        members = min(lines, int(await db.fetchval("SELECT count(*) FROM member")))
        tag = f"TU{uuid.uuid4().hex[:8]}-"
        day = rules.budget_day(now)
        await db.execute(LINES, lines, members, tag, now, gift_id, WITHIN, day)
        await db.execute("ANALYZE top_up")
        return gift_id
    finally:
        await db.close()


async def _unseed(url: str, gift_id: int) -> None:
    db = await asyncpg.connect(dsn(url))
    try:
        await _clear(db, gift_id)
    finally:
        await db.close()


def _switch(base: str, **switches: Any) -> dict[str, Any]:
    """Set the charging system's switches; its switches and counters."""
    answer = httpx.post(f"{base}/_admin/switches", json=switches, timeout=10)
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def _client(base: str) -> ChargingClient:
    """The client as production configures it (`api.wiring.charging_of`)."""
    return ChargingClient(ChargingConfig(base_url=base, secret=SECRET))


async def _ceiling(base: str, lines: int) -> float:
    """Seconds `ChargingClient` alone takes to send `lines` credits (no database)."""
    client = _client(base)
    requests = [
        TopUpRequest(f"topup:ceiling-{n}", f"+86139{n:08d}", FACE_VALUE, TopUpProduct.CREDIT)
        for n in range(lines)
    ]
    try:
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.credit(r) for r in requests))
        seconds = time.perf_counter() - started
    finally:
        await client.close()
    if not any(a.outcome is TopUpOutcome.DELIVERED for a in answers):
        raise RuntimeError(f"the ceiling's credits were not answered: {answers[0]}")
    return seconds


@dataclass
class Rounds:
    """What the round loops did: rounds run, and when the last line ended."""

    rounds: int = 0
    last_end: float = 0.0


async def _loop(client: ChargingClient, gift_id: int, rounds: Rounds) -> None:
    while True:
        report = await delivery.deliver_round(client, now=datetime.now(UTC), waits=WAITS)
        rounds.rounds += 1
        if report.delivered or report.refunded:
            rounds.last_end = time.perf_counter()
        if report.tried:
            continue
        if not (await sql.fetch(PENDING, gift_id))[0]["n"]:
            return
        await asyncio.sleep(IDLE)


async def _service(url: str, base: str, gift_id: int) -> tuple[float, dict[str, int], int]:
    """Seconds from the first round to the last line's end; lines by status; rounds."""
    client = _client(base)
    rounds = Rounds()
    try:
        async with orm(f"{url}?{POOL}"):
            started = time.perf_counter()
            async with asyncio.timeout(600):
                await asyncio.gather(*(_loop(client, gift_id, rounds) for _ in range(LOOPS)))
            statuses = {str(r["status"]): int(r["n"]) for r in await sql.fetch(STATUSES, gift_id)}
    finally:
        await client.close()
    return rounds.last_end - started, statuses, rounds.rounds


def topup_rows(database_url: str, sizes: Sizes, logs: Path, repeat: int) -> dict[str, Any]:
    """Row 15: top-up lines/s through `deliver_round` against the client's own ceiling,
    `repeat` times, and 15b's checks of each run."""
    return {"topups": [_run(database_url, sizes.top_up_lines, logs) for _ in range(repeat)]}


def _run(database_url: str, lines: int, logs: Path) -> dict[str, Any]:
    with charging_system(logs, SECRET) as alone:
        _switch(alone.url, lose_answers=LOST)
        ceiling = asyncio.run(_ceiling(alone.url, lines))
    gift_id = asyncio.run(_seed(database_url, lines))
    try:
        with charging_system(logs, SECRET) as system:
            _switch(system.url, lose_answers=LOST)
            seconds, statuses, rounds = asyncio.run(_service(database_url, system.url, gift_id))
            counters = _switch(system.url)["counters"]
    finally:
        asyncio.run(_unseed(database_url, gift_id))
    found = {
        "lines": lines,
        "seconds": seconds,
        "rate": lines / seconds if seconds > 0 else 0.0,
        "ceiling_rate": lines / ceiling if ceiling > 0 else 0.0,
        "statuses": statuses,
        "rounds": rounds,
        "keys": counters["credits"],
        "credited": counters["totalCredited"],
        "twice": counters["totalCredited"] - counters["credits"],
        "lost": counters["lostAnswers"],
        "requests": counters["requests"],
    }
    print(
        f"  {lines:,} lines in {seconds:.1f} s = {found['rate']:,.0f} lines/s "
        f"({rounds:,} rounds, {LOOPS} loops); the client alone {found['ceiling_rate']:,.0f}/s"
    )
    print(
        f"  lines {statuses}; {found['credited']:,} credited to {found['keys']:,} keys, "
        f"{found['twice']} twice; {found['lost']:,} answers lost, "
        f"{found['requests']:,} requests"
    )
    return found
