"""Scratch databases filled with set-based SQL (`INSERT ... SELECT generate_series`).

The main data set: members with points accounts, lots and a ledger the audit accepts;
categories and gifts (the last gift is the campaign's hot gift); two warehouses with stock;
a year of historical orders with lines, shipments, REDEEM (and REFUND) entries and lot
draws, so every balance still equals its ledger; the open orders reserve their stock, book
their ship days and have their deadlines. The sweep data set: open orders only, some of
them due, for one sweeper pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import asyncpg

from benchmarks.sizes import HOT_PRICE, HOT_SKU, SERVER, Sizes

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAPACITY = 500_000  # orders a warehouse ships a day: the campaign must not run out of slots
EARN_FIRST, EARN_SECOND = 200_000, 50_000
# Member 1 has a long history (for `MyOrders(first: 100)`) and the points to match it.
COLLECTOR_ORDERS, COLLECTOR_EARN = 200, 5_000_000
# The rows are consistent by construction: skip the per-row foreign-key triggers.
FAST_LOAD = """
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET session_replication_role = replica;
"""
SEQUENCES = (
    "member",
    "points_account",
    "points_entry",
    "points_lot",
    "points_lot_draw",
    "category",
    "gift",
    "warehouse",
    "stock",
    "redemption_order",
    "order_line",
    "ship_day",
    "fulfilment_deadline",
    "fulfilment_alert",
    "shipment",
)


def database_url(name: str, server: str = SERVER, *, pool: str = "") -> str:
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    return url + (f"?{pool}" if pool else "")


def dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


async def recreate(name: str, *, template: str | None = None, server: str = SERVER) -> str:
    """Drop and create database `name` (a copy of `template` if given); its URL."""
    admin = await asyncpg.connect(dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    return database_url(name, server)


async def exists(name: str, *, server: str = SERVER) -> bool:
    admin = await asyncpg.connect(dsn(server))
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def drop(name: str, *, server: str = SERVER) -> None:
    admin = await asyncpg.connect(dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def restock_hot(url: str, sizes: Sizes) -> None:
    """Put the hot gift's free units back to `sizes.hot_stock` (a delivery to the warehouse):
    each row-3 run reserves some 200,000 of them, so data kept between runs (`--reuse-data`)
    would otherwise sell out after a few. What is reserved stays reserved."""
    db = await asyncpg.connect(dsn(url))
    try:
        await db.execute(
            """
            UPDATE stock s SET on_hand = s.reserved + $2
            FROM gift g WHERE g.id = s.gift_id AND g.sku = $1
            """,
            HOT_SKU,
            sizes.hot_stock,
        )
    finally:
        await db.close()


def migrate(url: str) -> None:
    """Apply the project's migrations the way an operator does: `pointsmall migrate`."""
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "from api.cli import main; main()", "migrate"]
    subprocess.run(command, env=env, check=True, capture_output=True)


def _ts(moment: datetime) -> str:
    return f"'{moment.isoformat()}'::timestamptz"


def lot_expiries(now: datetime) -> tuple[datetime, datetime]:
    """End of next year and of the year after, programme time (the default expiry rule)."""
    first = datetime(now.year + 2, 1, 1, tzinfo=SHANGHAI)
    return first, first.replace(year=now.year + 3)


async def _catalog(db: asyncpg.Connection, sizes: Sizes, now: datetime) -> None:
    gifts, t = sizes.gifts, _ts(now)
    await db.execute(f"""
        INSERT INTO category (id, slug, name, position, created_at)
        SELECT c, 'category-' || c, 'Category ' || c, c, {t} FROM generate_series(1, 12) c;
        INSERT INTO gift (id, sku, name, description, image_url, category_id, points_price,
                          cash_price, currency, limit_per_member, active, created_at, updated_at)
        SELECT g, 'GIFT-' || lpad(g::text, 5, '0'), 'Gift number ' || g,
               'A fine gift, number ' || g || ', for our most loyal members.',
               'https://img.example.com/gifts/' || g || '.jpg', 1 + g % 12,
               100 + (g * 37 % 50) * 100,
               CASE WHEN g % 10 = 3 THEN (g % 50) + 0.90 END, 'CNY',
               CASE WHEN g % 7 = 0 THEN 5 END, g % 97 <> 0,
               {t} - ({gifts} - g) * interval '1 hour', {t}
        FROM generate_series(1, {gifts - 1}) g;
        INSERT INTO gift (id, sku, name, description, image_url, category_id, points_price,
                          cash_price, currency, limit_per_member, active, created_at, updated_at)
        VALUES ({gifts}, '{HOT_SKU}', 'Campaign gift: limited edition', 'Today only.',
                'https://img.example.com/gifts/hot.jpg', 1, {HOT_PRICE}, NULL, 'CNY', NULL,
                true, {t}, {t});
        INSERT INTO warehouse (id, code, name, daily_capacity, timezone, closed_dates,
                               created_at, updated_at)
        VALUES (1, 'SH01', 'Shanghai Jiading', {CAPACITY}, 'Asia/Shanghai', '[]', {t}, {t}),
               (2, 'GZ01', 'Guangzhou Baiyun', {CAPACITY}, 'Asia/Shanghai', '[]', {t}, {t});
    """)


async def _members(db: asyncpg.Connection, sizes: Sizes, now: datetime) -> None:
    n, t = sizes.members, _ts(now)
    first, second = (_ts(e) for e in lot_expiries(now))
    await db.execute(f"""
        INSERT INTO member (id, external_id, display_name, tier, mobile, language, opt_outs,
                            created_at, updated_at)
        SELECT i, 'M' || lpad(i::text, 7, '0'), 'Member ' || i,
               (ARRAY['STANDARD', 'SILVER', 'GOLD', 'DIAMOND'])[1 + i % 4],
               '+86139' || lpad(i::text, 8, '0'), 'zh-CN', '',
               {t} - interval '400 days', {t}
        FROM generate_series(1, {n}) i;
        INSERT INTO points_lot (id, member_id, amount, remaining, held, expires_at, settled,
                                created_at)
        SELECT 2 * i - 1 + k, i, a, a, 0,
               CASE WHEN k = 0 THEN {first}
                    WHEN i % 3 = 0 THEN {t} + (30 + i % 50) * interval '1 day'
                    ELSE {second} END, false,
               {t} - interval '300 days' + k * interval '100 days'
        FROM generate_series(1, {n}) i,
             LATERAL (VALUES (0, CASE i WHEN 1 THEN {COLLECTOR_EARN} ELSE {EARN_FIRST} END),
                             (1, {EARN_SECOND})) AS l(k, a);
        INSERT INTO points_entry (id, member_id, kind, delta, reason, external_ref,
                                  order_number, expires_at, created_at)
        SELECT id, member_id, 'EARN', amount, 'Monthly bill', 'seed-earn-' || id, NULL,
               expires_at, created_at
        FROM points_lot;
        INSERT INTO points_account (id, member_id, balance, held, updated_at)
        SELECT member_id, member_id, sum(remaining), 0, {t} FROM points_lot GROUP BY member_id;
    """)


def _history(sizes: Sizes, now: datetime) -> str:
    """The historical orders: spread over a year; the last six days' orders are still open."""
    n, gifts, t = sizes.members, sizes.gifts, _ts(now)
    collector_every = max(sizes.orders // COLLECTOR_ORDERS, 1)
    return f"""
        CREATE TEMP TABLE seed_order AS
        SELECT x.o, x.member_id, g.id AS gift_id, g.sku, g.name, g.points_price,
               g.cash_price, x.qty, {t} - (x.age + 10) * interval '1 minute' AS placed_at,
               CASE WHEN x.age < 8640 THEN (ARRAY['CONFIRMED', 'PICKING', 'PACKED'])[1 + x.o % 3]
                    WHEN x.o % 33 = 0 THEN 'CANCELLED'
                    WHEN x.age < 14400 THEN 'SHIPPED'
                    ELSE 'DELIVERED' END AS status,
               1 + x.o % 2 AS warehouse_id
        FROM (SELECT o,
                     CASE WHEN o % {collector_every} = 0 THEN 1 ELSE 1 + (o - 1) % {n} END
                         AS member_id,
                     1 + (o::bigint * 7919) % {gifts - 1} AS gift,
                     1 + o % 3 AS qty, (o::bigint * 104729) % 525600 AS age
              FROM generate_series(1, {sizes.orders}) o) x
        JOIN gift g ON g.id = x.gift;
        ALTER TABLE seed_order ADD COLUMN ship_day date;
        UPDATE seed_order SET ship_day = CASE
            WHEN status IN ('CONFIRMED', 'PICKING', 'PACKED') THEN greatest(
                ({t} AT TIME ZONE 'Asia/Shanghai')::date,
                ((placed_at + interval '7 days') AT TIME ZONE 'Asia/Shanghai')::date - 1)
            ELSE (placed_at AT TIME ZONE 'Asia/Shanghai')::date + 2 END;
    """


ORDERS = """
    INSERT INTO redemption_order (
        id, number, status, idempotency_key, request_fingerprint, points_total, cash_total,
        currency, placed_at, confirmed_at, ship_by, promised_ship_date, shipped_at,
        delivered_at, cancelled_at, cancel_reason, recipient, phone, province, city, district,
        line1, line2, postal_code, updated_at, member_id, warehouse_id)
    SELECT o, 'PM' || to_char(placed_at AT TIME ZONE 'Asia/Shanghai', 'YYMMDD') ||
              lpad(o::text, 8, '0'),
           status, 'seed-' || o, encode(sha256(convert_to(sku || 'x' || qty, 'UTF8')), 'hex'),
           points_price * qty, cash_price * qty, 'CNY', placed_at, placed_at,
           placed_at + interval '7 days', ship_day,
           CASE WHEN status IN ('SHIPPED', 'DELIVERED') THEN placed_at + interval '2 days' END,
           CASE WHEN status = 'DELIVERED' THEN placed_at + interval '4 days' END,
           CASE WHEN status = 'CANCELLED' THEN placed_at + interval '1 hour' END,
           CASE WHEN status = 'CANCELLED' THEN 'changed my mind' ELSE '' END,
           'Member ' || member_id, '+86 138 0000 ' || lpad((o % 10000)::text, 4, '0'),
           'Shanghai', 'Shanghai', 'Jiading', o || ' Bench Road', '', '201800',
           placed_at, member_id, warehouse_id
    FROM seed_order;
    INSERT INTO order_line (id, order_id, gift_id, sku, name, quantity, points_each, cash_each)
    SELECT o, o, gift_id, sku, name, qty, points_price, cash_price FROM seed_order;
"""


def _ledger(sizes: Sizes) -> str:
    """REDEEM entries and their lot draws; REFUNDs of cancelled orders; the totals that follow."""
    base = 2 * sizes.members
    return f"""
    INSERT INTO points_entry (id, member_id, kind, delta, reason, external_ref, order_number,
                              expires_at, created_at)
    SELECT {base} + o.id, o.member_id, 'REDEEM', -o.points_total, 'Redeemed order ' || o.number,
           NULL, o.number, NULL, o.placed_at
    FROM redemption_order o;
    INSERT INTO points_lot_draw (id, lot_id, entry_id, hold_id, amount)
    SELECT o.id, 2 * o.member_id - 1, {base} + o.id, NULL, o.points_total
    FROM redemption_order o;
    INSERT INTO points_entry (id, member_id, kind, delta, reason, external_ref, order_number,
                              expires_at, created_at)
    SELECT {base + sizes.orders} + o.id, o.member_id, 'REFUND', o.points_total,
           'Order cancelled', NULL, o.number, NULL, o.cancelled_at
    FROM redemption_order o WHERE o.status = 'CANCELLED';
    CREATE TEMP TABLE spent AS
    SELECT member_id, sum(points_total) AS points FROM redemption_order
    WHERE status <> 'CANCELLED' GROUP BY member_id;
    UPDATE points_lot l SET remaining = l.remaining - s.points
    FROM spent s WHERE l.id = 2 * s.member_id - 1;
    UPDATE points_account a SET balance = a.balance - s.points
    FROM spent s WHERE a.member_id = s.member_id;
    """


FULFILMENT = """
    INSERT INTO shipment (id, order_id, carrier, tracking_number, status, shipped_at, updated_at)
    SELECT id, id, CASE WHEN id % 2 = 0 THEN 'SF' ELSE 'YTO' END,
           'TN' || lpad(id::text, 10, '0'), status, shipped_at, shipped_at
    FROM redemption_order WHERE status IN ('SHIPPED', 'DELIVERED');
    INSERT INTO fulfilment_deadline (id, order_id, kind, due_at)
    SELECT 2 * id - 1 + k, id, CASE k WHEN 0 THEN 'AT_RISK' ELSE 'BREACHED' END,
           ship_by - CASE k WHEN 0 THEN interval '48 hours' ELSE interval '0 hours' END
    FROM redemption_order, generate_series(0, 1) k
    WHERE status IN ('CONFIRMED', 'PICKING', 'PACKED');
    INSERT INTO ship_day (warehouse_id, day, booked)
    SELECT warehouse_id, promised_ship_date, count(*) FROM redemption_order
    WHERE status IN ('CONFIRMED', 'PICKING', 'PACKED')
    GROUP BY warehouse_id, promised_ship_date;
"""


def _stock(sizes: Sizes, now: datetime) -> str:
    gifts, t = sizes.gifts, _ts(now)
    return f"""
    INSERT INTO stock (gift_id, warehouse_id, on_hand, reserved, updated_at)
    SELECT g, w, coalesce(r.units, 0) + CASE WHEN g % 50 = 0 THEN 0 ELSE 5000 + g * 13 % 5000 END,
           coalesce(r.units, 0), {t}
    FROM generate_series(1, {gifts - 1}) g CROSS JOIN generate_series(1, 2) w
    LEFT JOIN (SELECT l.gift_id, o.warehouse_id, sum(l.quantity) AS units
               FROM order_line l JOIN redemption_order o ON o.id = l.order_id
               WHERE o.status IN ('CONFIRMED', 'PICKING', 'PACKED')
               GROUP BY l.gift_id, o.warehouse_id) r ON r.gift_id = g AND r.warehouse_id = w
    ORDER BY g, w;
    INSERT INTO stock (gift_id, warehouse_id, on_hand, reserved, updated_at)
    VALUES ({gifts}, 1, {sizes.hot_stock}, 0, {t});
    """


async def _finish(db: asyncpg.Connection) -> None:
    for table in SEQUENCES:
        await db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )
    await db.execute("VACUUM ANALYZE")


@asynccontextmanager
async def bulk_loading(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection set up for loading generated rows fast, closed afterwards."""
    db = await asyncpg.connect(dsn(url))
    try:
        await db.execute(
            "SET synchronous_commit = off; SET maintenance_work_mem = '256MB';"
            # The rows are consistent by construction: skip the per-row foreign-key triggers.
            " SET session_replication_role = replica"
        )
        yield db
    finally:
        await db.close()


async def seed_main(url: str, sizes: Sizes, now: datetime) -> None:
    """Fill a migrated database with the main data set."""
    async with bulk_loading(url) as db:
        await _catalog(db, sizes, now)
        await _members(db, sizes, now)
        await db.execute(_history(sizes, now))
        await db.execute(ORDERS)
        await db.execute(_ledger(sizes))
        await db.execute(FULFILMENT)
        await db.execute(_stock(sizes, now))
        await _finish(db)


def sweep_times(sizes: Sizes, now: datetime) -> tuple[datetime, datetime]:
    """The two pass times: when `sweep_due[0]`, and when `sweep_due[1]` orders are due."""
    few, many = sizes.sweep_due
    return now - timedelta(seconds=many - few), now


def _open_orders(sizes: Sizes, now: datetime) -> str:
    """Open orders only: the first `sweep_due[1]` fall due one a second up to `now`.

    One due order in ten is already past its ship-by: its at-risk alert was raised by an
    earlier pass, and only its breach (which owes a compensation) is left to handle.
    """
    many, t = sizes.sweep_due[1], _ts(now)
    return f"""
    CREATE TEMP TABLE seed_open AS
    SELECT o, 1 + (o - 1) % {sizes.members} AS member_id,
           CASE WHEN o > {many}
                THEN {t} + interval '49 hours' + (o::bigint * 7919 % 432000) * interval '1 second'
                WHEN o % 10 = 0 THEN {t} - ({many} - o) * interval '1 second'
                ELSE {t} - ({many} - o) * interval '1 second' + interval '48 hours' END AS ship_by
    FROM generate_series(1, {sizes.sweep_open}) o;
    INSERT INTO redemption_order (
        id, number, status, idempotency_key, request_fingerprint, points_total, currency,
        placed_at, confirmed_at, ship_by, promised_ship_date, cancel_reason, recipient, phone,
        province, city, district, line1, line2, postal_code, updated_at, member_id, warehouse_id)
    SELECT o, 'PMS' || lpad(o::text, 9, '0'), (ARRAY['CONFIRMED', 'PICKING', 'PACKED'])[1 + o % 3],
           'seed-' || o, md5(o::text) || md5(o::text), 100 * (1 + o % 50), 'CNY',
           ship_by - interval '7 days', ship_by - interval '7 days', ship_by,
           (ship_by AT TIME ZONE 'Asia/Shanghai')::date - 1, '', 'Member ' || member_id,
           '+86 138 0000 0000', 'Shanghai', 'Shanghai', '', 'Bench Road', '', '',
           ship_by - interval '7 days', member_id, 1 + o % 2
    FROM seed_open;
    INSERT INTO fulfilment_deadline (order_id, kind, due_at)
    SELECT o, 'BREACHED', ship_by FROM seed_open;
    INSERT INTO fulfilment_deadline (order_id, kind, due_at)
    SELECT o, 'AT_RISK', ship_by - interval '48 hours' FROM seed_open
    WHERE o > {many} OR o % 10 <> 0;
    INSERT INTO fulfilment_alert (order_id, warehouse_id, kind, raised_at, compensated_at)
    SELECT o, 1 + o % 2, 'AT_RISK', ship_by - interval '48 hours', NULL FROM seed_open
    WHERE o <= {many} AND o % 10 = 0;
    """


async def seed_sweep(url: str, sizes: Sizes, now: datetime) -> None:
    """Fill a migrated database with members and `sweep_open` open orders."""
    async with bulk_loading(url) as db:
        await _catalog(db, sizes, now)
        await _members(db, sizes, now)
        await db.execute(_open_orders(sizes, now))
        await _finish(db)
