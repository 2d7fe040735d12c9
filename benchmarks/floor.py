"""The floor: the same work as the service with nothing between HTTP and PostgreSQL.

Plain starlette + asyncpg and hand-written SQL; no GraphQL, no ORM. It answers the same
JSON as the service's `Catalog(first: N)` (`?affordable=1`: a member's affordable page) and
`Me` (the benchmark checks they are equal)
and redeems one gift in one transaction: a conditional debit of the member's points (the
account, the lots soonest-expiring first, the REDEEM entry and its draws, so the audit
stays clean), the order and its line, and last the conditional stock update, so the hot
stock row is locked only for the update and the commit. It books no ship slot (the issue's
floor is "conditional update + debit + insert"). Serve with
`FLOOR_DATABASE_URL=postgres://... uvicorn benchmarks.floor:app`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.settings import DEV_JWT_SECRET
from fulfilment import calendar

WITHIN = timedelta(days=7)
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PAGE = """
SELECT g.id, g.sku, g.name, g.image_url, g.points_price, g.cash_price, g.currency,
       c.slug, c.name AS category_name, count(*) OVER () AS total
FROM gift g JOIN category c ON c.id = g.category_id
WHERE g.active ORDER BY g.id DESC LIMIT $1
"""
# A member's affordable page: what they can pay from available points.
AFFORDABLE_PAGE = """
SELECT g.id, g.sku, g.name, g.image_url, g.points_price, g.cash_price, g.currency,
       c.slug, c.name AS category_name, count(*) OVER () AS total
FROM gift g JOIN category c ON c.id = g.category_id
WHERE g.active AND g.points_price <= (
    SELECT coalesce(max(a.balance - a.held), 0) FROM member m
    JOIN points_account a ON a.member_id = m.id WHERE m.external_id = $2)
ORDER BY g.id DESC LIMIT $1
"""
STOCK = """
SELECT s.gift_id, s.warehouse_id, s.on_hand - s.reserved AS available,
       w.daily_capacity, w.timezone, w.closed_dates
FROM stock s JOIN warehouse w ON w.id = s.warehouse_id WHERE s.gift_id = ANY($1)
"""
BOOKED = """
SELECT warehouse_id, day, booked FROM ship_day
WHERE warehouse_id = ANY($1) AND day >= $2 AND day <= $3
"""
ME = """
SELECT m.id, m.external_id, m.display_name, m.tier,
       coalesce(a.balance, 0) AS balance, coalesce(a.held, 0) AS held
FROM member m LEFT JOIN points_account a ON a.member_id = m.id WHERE m.external_id = $1
"""
EXPIRING = """
SELECT expires_at, sum(remaining) AS amount FROM points_lot
WHERE member_id = $1 AND expires_at > $2 AND expires_at <= $3 AND remaining > 0
GROUP BY expires_at ORDER BY expires_at
"""
OFFER = """
SELECT m.id AS member_id, g.id AS gift_id, g.name, g.points_price, g.cash_price,
       (SELECT s.warehouse_id FROM stock s WHERE s.gift_id = g.id AND s.on_hand - s.reserved >= $3
        ORDER BY s.on_hand - s.reserved DESC LIMIT 1) AS warehouse_id
FROM member m, gift g WHERE m.external_id = $1 AND g.sku = $2 AND g.active
"""
DEBIT_ACCOUNT = """
UPDATE points_account SET balance = balance - $2, updated_at = $3
WHERE member_id = $1 AND balance - held >= $2
"""
# Under the account lock: draw from live lots soonest-expiring first, write the entry and
# its draws, the order and its line, in one statement.
DEBIT_AND_ORDER = """
WITH lots AS (
    SELECT id, remaining - held AS free,
           sum(remaining - held) OVER (ORDER BY expires_at, id) AS running
    FROM points_lot
    WHERE member_id = $1 AND NOT settled AND expires_at > $3 AND remaining > held
), take AS (
    SELECT id, least(free, $2 - (running - free)) AS amount FROM lots WHERE running - free < $2
), drawn AS (
    UPDATE points_lot l SET remaining = l.remaining - t.amount FROM take t WHERE l.id = t.id
), entry AS (
    INSERT INTO points_entry (member_id, kind, delta, reason, order_number, created_at)
    VALUES ($1, 'REDEEM', -$2, 'Redeemed order ' || $4, $4, $3) RETURNING id
), draws AS (
    INSERT INTO points_lot_draw (lot_id, entry_id, amount)
    SELECT t.id, e.id, t.amount FROM take t, entry e
), placed AS (
    INSERT INTO redemption_order (
        number, member_id, status, idempotency_key, request_fingerprint, warehouse_id,
        points_total, currency, placed_at, confirmed_at, ship_by, cancel_reason, recipient,
        phone, province, city, district, line1, line2, postal_code, updated_at)
    VALUES ($4, $1, 'CONFIRMED', $5, $6, $7, $2, 'CNY', $3, $3, $8, '', $9, $10, $11, $12,
            $13, $14, $15, $16, $3)
    RETURNING id
)
INSERT INTO order_line (order_id, gift_id, sku, name, quantity, points_each, cash_each)
SELECT id, $17, $18, $19, $20, $21, $22 FROM placed
"""
# Row 14: an e-voucher's order is the same debit, order and line, and its line's code.
VOUCHER_OFFER = """
SELECT m.id AS member_id, g.id AS gift_id, g.name, g.points_price, g.cash_price
FROM member m, gift g
WHERE m.external_id = $1 AND g.sku = $2 AND g.active AND g.kind = 'E_VOUCHER'
"""
CLAIM_CODE = """
UPDATE voucher_code SET order_line_id = $1, assigned_at = $2
WHERE id = (SELECT id FROM voucher_code
            WHERE gift_id = $3 AND order_line_id IS NULL AND expires_at > $2
            ORDER BY expires_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id
"""
RESERVE = """
UPDATE stock SET reserved = reserved + $3, updated_at = $4
WHERE gift_id = $1 AND warehouse_id = $2 AND on_hand - reserved >= $3
"""
ADDRESS = (
    "recipient",
    "phone",
    "province",
    "city",
    "district",
    "line1",
    "line2",
    "postalCode",
)


def global_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def cursor(row_id: int) -> str:
    raw = json.dumps([row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


def member_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    try:
        claims = jwt.decode(
            header.removeprefix("Bearer "),
            DEV_JWT_SECRET,
            algorithms=["HS256"],
            leeway=30,
            options={"require": ["exp", "sub", "role"]},
        )
    except jwt.PyJWTError:
        return None
    return str(claims["sub"]) if claims.get("role") == "member" else None


def promised_day(row: asyncpg.Record, booked: dict[Any, int], now: datetime) -> Any:
    closed = json.loads(row["closed_dates"])
    warehouse = calendar.WarehouseCalendar(row["timezone"], row["daily_capacity"], closed)
    return calendar.first_free_day(warehouse, now=now, deadline=now + WITHIN, booked=booked)


async def availability(db: asyncpg.Connection, ids: list[int], now: datetime) -> dict[int, Any]:
    stock = await db.fetch(STOCK, ids)
    warehouses = {row["warehouse_id"]: row for row in stock}
    first, last = (now - timedelta(days=1)).date(), (now + WITHIN + timedelta(days=1)).date()
    booked: dict[int, dict[Any, int]] = {w: {} for w in warehouses}
    for row in await db.fetch(BOOKED, list(warehouses), first, last):
        booked[row["warehouse_id"]][row["day"]] = row["booked"]
    days = {w: promised_day(row, booked[w], now) for w, row in warehouses.items()}
    units: dict[int, int] = {}
    best: dict[int, Any] = {}
    for row in stock:
        if row["available"] <= 0:
            continue
        gift = row["gift_id"]
        units[gift] = units.get(gift, 0) + row["available"]
        day = days[row["warehouse_id"]]
        if day is not None and (gift not in best or day < best[gift]):
            best[gift] = day
    return {
        g: {
            "inStock": units.get(g, 0) > 0,
            "quantityAvailable": units.get(g, 0),
            "estimatedShipBy": best[g].isoformat() if g in best else None,
        }
        for g in ids
    }


def gift_card(row: asyncpg.Record, found: dict[str, Any]) -> dict[str, Any]:
    cash = row["cash_price"]
    return {
        "id": global_id("Gift", row["id"]),
        "sku": row["sku"],
        "name": row["name"],
        "imageUrl": row["image_url"],
        "pointsPrice": row["points_price"],
        "cashPrice": None if cash is None else {"amount": str(cash), "currency": row["currency"]},
        "category": {"slug": row["slug"], "name": row["category_name"]},
        "availability": found,
    }


async def catalog(request: Request) -> Response:
    first = min(int(request.query_params.get("first", "20")), 100)
    affordable = request.query_params.get("affordable") == "1"
    subject = member_of(request) if affordable else None
    if affordable and subject is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    now = datetime.now(UTC)
    async with pool(request).acquire() as db:
        if subject is not None:
            rows = await db.fetch(AFFORDABLE_PAGE, first + 1, subject)
        else:
            rows = await db.fetch(PAGE, first + 1)
        page = rows[:first]
        found = await availability(db, [r["id"] for r in page], now)
    edges = [{"cursor": cursor(r["id"]), "node": gift_card(r, found[r["id"]])} for r in page]
    gifts = {
        "totalCount": rows[0]["total"] if rows else 0,
        "pageInfo": {
            "hasNextPage": len(rows) > first,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "edges": edges,
    }
    return JSONResponse({"data": {"gifts": gifts}})


async def me(request: Request) -> Response:
    subject = member_of(request)
    if subject is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    now = datetime.now(UTC)
    async with pool(request).acquire() as db:
        row = await db.fetchrow(ME, subject)
        if row is None:
            return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
        lots = await db.fetch(EXPIRING, row["id"], now, now + timedelta(days=90))
    points = {
        "balance": row["balance"],
        "held": row["held"],
        "available": row["balance"] - row["held"],
        "expiring": [
            {"amount": int(lot["amount"]), "expiresAt": lot["expires_at"].isoformat()}
            for lot in lots
        ],
    }
    member = {
        "id": global_id("Member", row["id"]),
        "externalId": row["external_id"],
        "displayName": row["display_name"],
        "tier": row["tier"],
        "points": points,
    }
    return JSONResponse({"data": {"me": member}})


def refused(code: str, status: int = 200) -> Response:
    errors = [{"code": code}]
    return JSONResponse({"data": {"redeem": {"order": None, "errors": errors}}}, status)


async def redeem(request: Request) -> Response:
    subject = member_of(request)
    if subject is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    body = await request.json()
    try:
        order = await place_order(pool(request), subject, body)
    except Refusal as refusal:
        return refused(refusal.code, 409 if refusal.code == "IDEMPOTENCY_CONFLICT" else 200)
    return JSONResponse({"data": {"redeem": {"order": order, "errors": []}}})


async def place_order(db_pool: asyncpg.Pool, subject: str, body: dict[str, Any]) -> dict[str, Any]:
    """The floor's redemption: the order's JSON, or `Refusal` with a code."""
    sku, quantity, key = body["sku"], int(body["quantity"]), body["idempotencyKey"]
    address = [body["shippingAddress"].get(name, "") for name in ADDRESS]
    now = datetime.now(UTC)
    number = f"PM{now:%y%m%d}" + "".join(secrets.choice(ALPHABET) for _ in range(6))
    async with db_pool.acquire() as db:
        offer = await db.fetchrow(OFFER, subject, sku, quantity)
        if offer is None or offer["warehouse_id"] is None:
            raise Refusal("OUT_OF_STOCK")
        points = offer["points_price"] * quantity
        try:
            async with db.transaction():
                if await db.execute(DEBIT_ACCOUNT, offer["member_id"], points, now) == "UPDATE 0":
                    raise Refusal("INSUFFICIENT_POINTS")
                await db.execute(
                    DEBIT_AND_ORDER,
                    offer["member_id"],
                    points,
                    now,
                    number,
                    key,
                    f"{sku}x{quantity}",
                    offer["warehouse_id"],
                    now + WITHIN,
                    *address,
                    offer["gift_id"],
                    sku,
                    offer["name"],
                    quantity,
                    offer["points_price"],
                    offer["cash_price"],
                )
                reserve = (offer["gift_id"], offer["warehouse_id"], quantity, now)
                if await db.execute(RESERVE, *reserve) == "UPDATE 0":
                    raise Refusal("OUT_OF_STOCK")
        except asyncpg.UniqueViolationError as exc:
            raise Refusal("IDEMPOTENCY_CONFLICT") from exc
    return {
        "number": number,
        "status": "CONFIRMED",
        "placedAt": now.isoformat(),
        "confirmedAt": now.isoformat(),
        "shipBy": (now + WITHIN).isoformat(),
        "pointsTotal": points,
        "lines": [{"sku": sku, "name": offer["name"], "quantity": quantity}],
        "shippingAddress": dict(zip(ADDRESS, address, strict=True)),
    }


async def redeem_voucher(request: Request) -> Response:
    subject = member_of(request)
    if subject is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    body = await request.json()
    try:
        order = await place_voucher_order(pool(request), subject, body)
    except Refusal as refusal:
        return refused(refusal.code, 409 if refusal.code == "IDEMPOTENCY_CONFLICT" else 200)
    return JSONResponse({"data": {"redeem": {"order": order, "errors": []}}})


async def place_voucher_order(
    db_pool: asyncpg.Pool, subject: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The floor's e-voucher redemption: debit, order, line and the pool's next code."""
    sku, key = body["sku"], body["idempotencyKey"]
    address = [body["shippingAddress"].get(name, "") for name in ADDRESS]
    now = datetime.now(UTC)
    number = f"PM{now:%y%m%d}" + "".join(secrets.choice(ALPHABET) for _ in range(6))
    async with db_pool.acquire() as db:
        offer = await db.fetchrow(VOUCHER_OFFER, subject, sku)
        if offer is None:
            raise Refusal("NOT_FOUND")
        points = offer["points_price"]
        try:
            async with db.transaction():
                if await db.execute(DEBIT_ACCOUNT, offer["member_id"], points, now) == "UPDATE 0":
                    raise Refusal("INSUFFICIENT_POINTS")
                line_id = await db.fetchval(
                    DEBIT_AND_ORDER + " RETURNING id",
                    offer["member_id"],
                    points,
                    now,
                    number,
                    key,
                    f"{sku}x1",
                    None,
                    None,
                    *address,
                    offer["gift_id"],
                    sku,
                    offer["name"],
                    1,
                    offer["points_price"],
                    offer["cash_price"],
                )
                if await db.fetchval(CLAIM_CODE, line_id, now, offer["gift_id"]) is None:
                    raise Refusal("OUT_OF_STOCK")
        except asyncpg.UniqueViolationError as exc:
            raise Refusal("IDEMPOTENCY_CONFLICT") from exc
    return {
        "number": number,
        "status": "DELIVERED",
        "placedAt": now.isoformat(),
        "pointsTotal": points,
        "lines": [{"sku": sku, "name": offer["name"], "quantity": 1}],
    }


class Refusal(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


async def readyz(request: Request) -> Response:
    async with pool(request).acquire() as db:
        await db.fetchval("SELECT 1")
    return JSONResponse({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ["FLOOR_DATABASE_URL"]
    dsn = "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]
    app.state.pool = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/catalog", catalog),
        Route("/me", me),
        Route("/redeem", redeem, methods=["POST"]),
        Route("/redeem-voucher", redeem_voucher, methods=["POST"]),
        Route("/readyz", readyz),
    ],
    lifespan=lifespan,
)
