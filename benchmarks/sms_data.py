"""The delivery rows' data, with set-based SQL: members with mobiles and a backlog of due
SMS, as an outage of the SMS centre would leave it (each member with several messages
waiting, written one after another over the last hours, interleaved between members)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from benchmarks.dataset import _ts, bulk_loading, dsn


def _backlog(*, members: int, messages: int, now: datetime) -> str:
    t = _ts(now)
    return f"""
    INSERT INTO member (id, external_id, display_name, tier, mobile, language, opt_outs,
                        created_at, updated_at)
    SELECT i, 'S' || lpad(i::text, 7, '0'), '', 'STANDARD', '+86138' || lpad(i::text, 8, '0'),
           CASE WHEN i % 5 = 0 THEN 'en' ELSE 'zh-CN' END, '', {t} - interval '1 day', {t}
    FROM generate_series(1, {members}) i;
    INSERT INTO notification (id, member_id, kind, dedupe_key, data, body, created_at, sms_to,
                              sms_status, sms_urgent, sms_due_at, sms_attempts, sms_message_id,
                              sms_parts, sms_error, answer, push_status, push_attempts,
                              push_error)
    SELECT n, 1 + (n - 1) % {members}, 'ORDER_DELIVERED', 'bench:' || n,
           jsonb_build_object('number', 'PM' || lpad(n::text, 8, '0'), 'points', n % 5000), '',
           w.at, '+86138' || lpad((1 + (n - 1) % {members})::text, 8, '0'), 'PENDING', FALSE,
           w.at, 0, '', 0, '', '', 'SKIPPED', 0, ''
    FROM generate_series(1, {messages}) n,
         LATERAL (SELECT {t} - ({messages} - n) * interval '10 milliseconds' AS at) w;
    SELECT setval(pg_get_serial_sequence('member', 'id'), {members} + 1, false);
    SELECT setval(pg_get_serial_sequence('notification', 'id'), {messages} + 1, false);
    """


async def seed_backlog(url: str, *, members: int, messages: int, now: datetime) -> None:
    """Fill a migrated database with `messages` due SMS to `members` members."""
    async with bulk_loading(url) as db:
        await db.execute(_backlog(members=members, messages=messages, now=now))
        await db.execute("VACUUM ANALYZE member, notification")


# Messages the runs before left waiting (row 3 confirms every order it places): the latency
# row measures its own orders' messages, not a backlog's.
SET_ASIDE = """UPDATE notification
SET sms_status = 'SKIPPED', sms_error = 'set aside by the benchmark'
WHERE sms_status IN ('PENDING', 'SENDING')"""


async def set_aside_waiting(url: str) -> int:
    db = await asyncpg.connect(dsn(url))
    try:
        done = await db.execute(SET_ASIDE)
        await db.execute("VACUUM ANALYZE notification")
    finally:
        await db.close()
    return int(done.split()[-1])
