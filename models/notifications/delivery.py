"""Delivering the outbox by SMS: claim due messages, write them, submit them, record what the
SMS centre said; receipts settle each message.

Safe with several workers: a claim takes a batch with `FOR UPDATE SKIP LOCKED` and marks it
SENDING until a lease ends, in its own short transaction, so no two workers take the same
message; a worker that dies holding a batch lets the lease run out and the messages go out
again. That is the one place a message can reach a handset twice (the centre took it, the
worker died before recording it); the receipt then matches the centre's id of the copy it
belongs to. A member's messages go in the order they were written: a message is claimed
only once every earlier one to the same number has been answered (one waiting to be tried
again holds the later ones back, so a retry never lets them overtake it).
Quiet hours hold back all but urgent messages, here and not at writing, so a message
written at 21:59 waits too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import sql
from models.notifications import rules, templates
from models.notifications.models import NotificationKind as Kind
from models.notifications.models import SmsStatus
from models.notifications.ports import (
    OutgoingSms,
    Receipt,
    ReceiptState,
    SmsCentre,
    SubmitResult,
    SubmitStatus,
)

log = logging.getLogger("pointsmall.sms")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the outbox is delivered: batch, lease, retries and quiet hours."""

    batch: int = 500
    lease: timedelta = timedelta(minutes=2)
    retries: rules.Retries = field(default_factory=rules.Retries)
    quiet: rules.QuietHours = field(default_factory=rules.QuietHours)


@dataclass(frozen=True)
class Claimed:
    """A message claimed for sending, with what its words need."""

    id: int
    to: str
    kind: Kind
    data: Mapping[str, Any]
    body: str
    attempts: int
    member_id: int | None
    order_id: int | None


def _claim_text(
    p: sql.Params, *, now: datetime, quiet: bool, batch: int, lease_end: datetime
) -> str:
    """Mark a batch of due messages SENDING, oldest first; returns them."""
    at = p(now, "timestamptz")
    may_go = "TRUE" if not quiet else "c.sms_urgent"
    # An earlier message to the number holds this one back while it is being sent or waits
    # to be tried (again), unless quiet hours hold it back anyway: then an urgent one may pass.
    earlier_holds = "TRUE" if not quiet else "e.sms_urgent"
    lock = " FOR UPDATE SKIP LOCKED" if sql.on_postgres() else ""
    return f"""UPDATE notification SET sms_status = '{SmsStatus.SENDING}',
        sms_attempts = sms_attempts + 1, sms_claimed_until = {p(lease_end, "timestamptz")}
    WHERE id IN (
        SELECT c.id FROM notification c
        WHERE c.sms_status = '{SmsStatus.PENDING}' AND c.sms_due_at <= {at} AND {may_go}
          AND NOT EXISTS (
            SELECT 1 FROM notification e
            WHERE e.sms_to = c.sms_to AND e.id < c.id
              AND (e.sms_status = '{SmsStatus.SENDING}'
                   OR (e.sms_status = '{SmsStatus.PENDING}' AND {earlier_holds})))
        ORDER BY c.sms_due_at, c.id LIMIT {p(batch, "int")}{lock})
    RETURNING id, sms_to, kind, data, body, sms_attempts, member_id, order_id"""  # noqa: S608 (placeholders and constants only)


RELEASE_LAPSED = f"""UPDATE notification SET sms_status = '{SmsStatus.PENDING}',
    sms_claimed_until = NULL
WHERE sms_status = '{SmsStatus.SENDING}' AND sms_claimed_until < $1"""  # noqa: S608 (constants)


async def claim(*, now: datetime, policy: DeliveryPolicy) -> list[Claimed]:
    """Claim the due messages (after freeing those whose worker let its lease lapse)."""
    await sql.execute(RELEASE_LAPSED, now)
    p = sql.Params()
    text = _claim_text(
        p,
        now=now,
        quiet=policy.quiet.quiet(now),
        batch=policy.batch,
        lease_end=now + policy.lease,
    )
    rows = await sql.fetch(text, *p.values)
    return sorted((_claimed(row) for row in rows), key=lambda c: c.id)


def _claimed(row: Mapping[str, Any]) -> Claimed:
    data = row["data"]
    return Claimed(
        id=int(row["id"]),
        to=str(row["sms_to"]),
        kind=Kind(row["kind"]),
        data=json.loads(data) if isinstance(data, str) else (data or {}),
        body=str(row["body"] or ""),
        attempts=int(row["sms_attempts"]),
        member_id=None if row["member_id"] is None else int(row["member_id"]),
        order_id=None if row["order_id"] is None else int(row["order_id"]),
    )


LANGUAGES = "SELECT id, language FROM member WHERE id IN ({ids})"
ORDERS = "SELECT id, promised_ship_date, ship_by FROM redemption_order WHERE id IN ({ids})"
AVAILABLE = (
    "SELECT member_id, balance - held AS available FROM points_account WHERE member_id IN ({ids})"
)


async def _read_all(text: str, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return await sql.fetch(text.format(ids=sql.listed(len(ids))), *ids)


async def words(batch: Sequence[Claimed], *, timezone: str) -> dict[int, str]:
    """Each message's text, in its member's language, with what is true as it goes (an
    order's ship date, the points available)."""
    members = sorted({c.member_id for c in batch if c.member_id is not None})
    orders = sorted({c.order_id for c in batch if c.order_id is not None})
    language = {int(r["id"]): str(r["language"]) for r in await _read_all(LANGUAGES, members)}
    available = {
        int(r["member_id"]): int(r["available"]) for r in await _read_all(AVAILABLE, members)
    }
    order_rows = {int(r["id"]): r for r in await _read_all(ORDERS, orders)}
    texts = {}
    for claimed in batch:
        if claimed.body:
            texts[claimed.id] = claimed.body
            continue
        order = order_rows.get(claimed.order_id) if claimed.order_id is not None else None
        live = templates.Live(
            ship_date=sql.day(order["promised_ship_date"])
            if order and order["promised_ship_date"]
            else None,
            ship_by=sql.moment(order["ship_by"]) if order and order["ship_by"] else None,
            available=available.get(claimed.member_id, 0) if claimed.member_id else None,
        )
        lang = language.get(claimed.member_id, "") if claimed.member_id is not None else ""
        texts[claimed.id] = templates.message_text(
            claimed.kind, claimed.data, language=lang, live=live, timezone=timezone
        )
    return texts


@dataclass(frozen=True)
class Failure:
    """A message that failed for good: what the alert names (never the number it was for)."""

    id: int
    kind: Kind
    error: str
    attempts: int


@dataclass(frozen=True)
class Recorded:
    """What a batch came to."""

    accepted: int = 0
    retried: int = 0
    failed: int = 0
    failures: tuple[Failure, ...] = ()


def outcome_of(
    result: SubmitResult, claimed: Claimed, *, now: datetime, retries: rules.Retries
) -> tuple[str, datetime | None, str]:
    """The message's next status, when it is next due (a retry) and the error to keep."""
    if result.status is SubmitStatus.ACCEPTED:
        return SmsStatus.SENT, None, ""
    if result.status is SubmitStatus.REJECTED or retries.exhausted(claimed.attempts):
        return SmsStatus.FAILED, None, result.error or result.status.value
    return (
        SmsStatus.PENDING,
        now + retries.delay(claimed.attempts),
        result.error or result.status.value,
    )


# What the SMS centre said of each message of a batch, in one statement (PostgreSQL) or one
# per message (SQLite), fed the same cases by the tests. A receipt that came first wins.
_RECORD_SET = f"""
    sms_status = CASE WHEN r.status = '{SmsStatus.SENT}' THEN COALESCE(k.state, r.status)
                      ELSE r.status END,
    sms_message_id = r.message_id, sms_parts = r.parts,
    sms_due_at = COALESCE(r.due_at, n.sms_due_at), sms_error = r.error,
    sms_sent_at = CASE WHEN r.status = '{SmsStatus.SENT}' THEN {{now}} ELSE n.sms_sent_at END,
    sms_finished_at = CASE WHEN r.status = '{SmsStatus.FAILED}' OR k.state IS NOT NULL
                           THEN {{now}} ELSE NULL END,
    sms_claimed_until = NULL"""
RECORD_MANY = f"""UPDATE notification AS n SET {_RECORD_SET}
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[])
     AS r(id, status, message_id, parts, due_at, error)
LEFT JOIN sms_receipt k ON k.message_id = r.message_id AND r.message_id <> ''
WHERE n.id = r.id AND n.sms_status = '{SmsStatus.SENDING}'""".replace("{now}", "$7::timestamptz")  # noqa: S608 (constants)
RECORD_ONE = f"""UPDATE notification AS n SET {_RECORD_SET}
FROM (SELECT $1 AS id, $2 AS status, $3 AS message_id, $4 AS parts, $5 AS due_at,
             $6 AS error) AS r
LEFT JOIN sms_receipt k ON k.message_id = r.message_id AND r.message_id <> ''
WHERE n.id = r.id AND n.sms_status = '{SmsStatus.SENDING}'""".replace("{now}", "$7")  # noqa: S608 (constants)


async def record(
    batch: Sequence[Claimed],
    results: Sequence[SubmitResult],
    *,
    now: datetime,
    retries: rules.Retries,
    one_statement: bool | None = None,
) -> Recorded:
    """Write what the SMS centre said of each message; `one_statement`: the PostgreSQL form
    (the default there) or a statement per message."""
    rows = []
    counts = {SmsStatus.SENT: 0, SmsStatus.PENDING: 0, SmsStatus.FAILED: 0}
    failures = []
    for claimed, result in zip(batch, results, strict=True):
        status, due, error = outcome_of(result, claimed, now=now, retries=retries)
        counts[SmsStatus(status)] += 1
        rows.append((claimed.id, status, result.message_id or "", result.parts, due, error[:200]))
        if status == SmsStatus.FAILED:
            failures.append(Failure(claimed.id, claimed.kind, error[:200], claimed.attempts))
    if sql.on_postgres() if one_statement is None else one_statement:
        columns = [list(column) for column in zip(*rows, strict=True)]
        await sql.execute(RECORD_MANY, *columns, now)
    else:
        for row in rows:
            await sql.execute(RECORD_ONE, *row, now)
    return Recorded(
        counts[SmsStatus.SENT], counts[SmsStatus.PENDING], counts[SmsStatus.FAILED], tuple(failures)
    )


FINAL = {
    ReceiptState.DELIVERED: SmsStatus.DELIVERED,
    ReceiptState.UNDELIVERABLE: SmsStatus.UNDELIVERABLE,
    ReceiptState.EXPIRED: SmsStatus.EXPIRED,
    ReceiptState.REJECTED: SmsStatus.UNDELIVERABLE,
    ReceiptState.UNKNOWN: SmsStatus.UNDELIVERABLE,
}
# Receipts are kept (a receipt may overtake the record of its submit), then settle their
# messages: one statement for a batch (PostgreSQL), or two a receipt (SQLite).
SETTLE_MANY = f"""WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS r(message_id, state, at)
), kept AS (
    INSERT INTO sms_receipt (message_id, state, at) SELECT message_id, state, at FROM r
    ON CONFLICT (message_id) DO NOTHING
)
UPDATE notification AS n SET sms_status = r.state, sms_finished_at = r.at
FROM r WHERE n.sms_message_id = r.message_id
  AND n.sms_status IN ('{SmsStatus.SENT}', '{SmsStatus.SENDING}')"""  # noqa: S608 (constants)
KEEP_RECEIPT = """INSERT INTO sms_receipt (message_id, state, at) VALUES ($1, $2, $3)
ON CONFLICT (message_id) DO NOTHING"""
SETTLE_ONE = f"""UPDATE notification SET sms_status = $2, sms_finished_at = $3
WHERE sms_message_id = $1 AND sms_status IN ('{SmsStatus.SENT}', '{SmsStatus.SENDING}')"""  # noqa: S608 (constants)


async def settle(receipts: Sequence[Receipt], *, one_statement: bool | None = None) -> int:
    """Apply delivery receipts; the messages settled."""
    if not receipts:
        return 0
    rows = [(r.message_id, FINAL[r.state].value, r.at) for r in receipts]
    if sql.on_postgres() if one_statement is None else one_statement:
        columns = [list(column) for column in zip(*rows, strict=True)]
        return await sql.execute(SETTLE_MANY, *columns)
    settled = 0
    for row in rows:
        await sql.execute(KEEP_RECEIPT, *row)
        settled += await sql.execute(SETTLE_ONE, *row)
    return settled


# A receipt written while its submit's record was still open finds no message to settle, and
# that record does not see the receipt yet: the two meet here, soon after both committed.
RECONCILE = f"""UPDATE notification AS n SET sms_status = r.state, sms_finished_at = r.at
FROM sms_receipt AS r
WHERE r.at > $1 AND n.sms_message_id = r.message_id AND n.sms_status = '{SmsStatus.SENT}'"""  # noqa: S608 (constants)
RECONCILE_WITHIN = timedelta(minutes=10)


async def reconcile(*, now: datetime) -> int:
    """Settle the sent messages whose receipt was kept before their record (receipts of the
    last minutes only, so the cost follows them, not the messages); how many."""
    return await sql.execute(RECONCILE, now - RECONCILE_WITHIN)


async def deliver_once(centre: SmsCentre, *, now: datetime, policy: DeliveryPolicy) -> Recorded:
    """One round: claim due messages, send them, record what came of them."""
    async with in_transaction():
        batch = await claim(now=now, policy=policy)
    if not batch:
        return Recorded()
    texts = await words(batch, timezone=policy.quiet.timezone)
    outgoing = [OutgoingSms(str(c.id), c.to, texts[c.id]) for c in batch]
    results = await centre.send(outgoing)
    async with in_transaction():
        return await record(batch, results, now=now, retries=policy.retries)
