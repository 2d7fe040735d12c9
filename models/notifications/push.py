"""Delivering the outbox to the operator's push platform: claim due pushes, word them, push
them, record what the platform said.

The same guarantees as the SMS (`delivery`), on the message's own `push_*` state: a claim
takes a batch with `FOR UPDATE SKIP LOCKED` under a lease, in its own short transaction, so
several workers never push the same message; a worker that dies holding a batch lets the
lease run out and the batch goes again with the same idempotency key, which the platform
drops. Retries back off with jitter; after the last try a push is FAILED. Quiet hours hold
back all but urgent messages, as for the SMS. A push is news of now: one that waited longer
than `max_age` (written while no platform was configured, or while every worker was down)
is SKIPPED, never sent late.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import sql
from models.notifications import delivery, rules
from models.notifications.delivery import Claimed, Failure, Recorded
from models.notifications.models import NotificationKind as Kind
from models.notifications.models import PushStatus
from models.notifications.ports import PushMessage, PushOutcome, PushPlatform, PushResult


@dataclass(frozen=True)
class PushPolicy:
    """How pushes go: batch, lease, retries, quiet hours and how old a push may be."""

    batch: int = 200
    lease: timedelta = timedelta(minutes=2)
    retries: rules.Retries = field(default_factory=rules.Retries)
    quiet: rules.QuietHours = field(default_factory=rules.QuietHours)
    max_age: timedelta = timedelta(days=1)


def _claim_text(
    p: sql.Params, *, now: datetime, quiet: bool, batch: int, lease_end: datetime, oldest: datetime
) -> str:
    """Mark a batch of due pushes SENDING, oldest first; returns them."""
    may_go = "TRUE" if not quiet else "c.sms_urgent"
    lock = " FOR UPDATE SKIP LOCKED" if sql.on_postgres() else ""
    return f"""UPDATE notification SET push_status = '{PushStatus.SENDING}',
        push_attempts = push_attempts + 1, push_claimed_until = {p(lease_end, "timestamptz")}
    WHERE id IN (
        SELECT c.id FROM notification c
        WHERE c.push_status = '{PushStatus.PENDING}' AND c.push_due_at <= {p(now, "timestamptz")}
          AND c.push_due_at > {p(oldest, "timestamptz")} AND {may_go}
        ORDER BY c.push_due_at, c.id LIMIT {p(batch, "int")}{lock})
    RETURNING id, kind, data, body, push_attempts, member_id, order_id, created_at"""  # noqa: S608 (placeholders and constants only)


RELEASE_LAPSED = f"""UPDATE notification SET push_status = '{PushStatus.PENDING}',
    push_claimed_until = NULL
WHERE push_status = '{PushStatus.SENDING}' AND push_claimed_until < $1"""  # noqa: S608 (constants)
# A few thousand at a time: the first worker after a long time without push finds them all.
TOO_OLD = f"""UPDATE notification SET push_status = '{PushStatus.SKIPPED}',
    push_error = 'too old to push'
WHERE id IN (SELECT id FROM notification
             WHERE push_status = '{PushStatus.PENDING}' AND push_due_at <= $1 LIMIT 5000)"""  # noqa: S608 (constants)


@dataclass(frozen=True)
class ClaimedPush:
    """A push claimed for sending: the message, and when its change was written."""

    message: Claimed
    created_at: datetime


async def claim(*, now: datetime, policy: PushPolicy) -> list[ClaimedPush]:
    """Claim the due pushes (after freeing lapsed leases and skipping those too old)."""
    oldest = now - policy.max_age
    await sql.execute(RELEASE_LAPSED, now)
    await sql.execute(TOO_OLD, oldest)
    p = sql.Params()
    text = _claim_text(
        p,
        now=now,
        quiet=policy.quiet.quiet(now),
        batch=policy.batch,
        lease_end=now + policy.lease,
        oldest=oldest,
    )
    rows = await sql.fetch(text, *p.values)
    return sorted((_claimed(row) for row in rows), key=lambda c: c.message.id)


def _claimed(row: Mapping[str, Any]) -> ClaimedPush:
    data = row["data"]
    message = Claimed(
        id=int(row["id"]),
        to="",
        kind=Kind(row["kind"]),
        data=json.loads(data) if isinstance(data, str) else (data or {}),
        body=str(row["body"] or ""),
        attempts=int(row["push_attempts"]),
        member_id=None if row["member_id"] is None else int(row["member_id"]),
        order_id=None if row["order_id"] is None else int(row["order_id"]),
    )
    return ClaimedPush(message, sql.moment(row["created_at"]))


MEMBERS = "SELECT id, external_id, language FROM member WHERE id IN ({ids})"


async def messages(batch: Sequence[ClaimedPush], *, timezone: str) -> list[PushMessage]:
    """What the platform is told of each push: the words the app shows, for whom."""
    claimed = [c.message for c in batch]
    texts = await delivery.words(claimed, timezone=timezone)
    ids = sorted({c.member_id for c in claimed if c.member_id is not None})
    members = {
        int(r["id"]): r
        for r in (await sql.fetch(MEMBERS.format(ids=sql.listed(len(ids))), *ids) if ids else [])
    }
    found = []
    for push in batch:
        c = push.message
        member = members.get(c.member_id) if c.member_id is not None else None
        number = c.data.get("number")
        found.append(
            PushMessage(
                notification_id=c.id,
                member=str(member["external_id"]) if member else "",
                kind=c.kind.value,
                language=str(member["language"]) if member else "",
                text=texts[c.id],
                created_at=push.created_at,
                order_number=str(number) if number is not None else None,
            )
        )
    return found


SENT = f"""UPDATE notification SET push_status = '{PushStatus.SENT}', push_sent_at = $1,
    push_error = '', push_claimed_until = NULL
WHERE push_status = '{PushStatus.SENDING}' AND id IN ({{ids}})"""  # noqa: S608 (constants)
CHUNK = 1000  # ids per IN (...) list: within SQLite's and asyncpg's limits
NOT_SENT = f"""UPDATE notification SET push_status = $2, push_due_at = COALESCE($3, push_due_at),
    push_error = $4, push_claimed_until = NULL
WHERE id = $1 AND push_status = '{PushStatus.SENDING}'"""  # noqa: S608 (constants)


def outcome_of(
    result: PushResult, attempts: int, *, now: datetime, retries: rules.Retries
) -> tuple[PushStatus, datetime | None]:
    """The push's next status, and when it is next due (a retry)."""
    if result.outcome is PushOutcome.ACCEPTED:
        return PushStatus.SENT, None
    if result.outcome is PushOutcome.REJECTED or retries.exhausted(attempts):
        return PushStatus.FAILED, None
    return PushStatus.PENDING, now + retries.delay(attempts)


async def record(
    batch: Sequence[ClaimedPush],
    results: Sequence[PushResult],
    *,
    now: datetime,
    retries: rules.Retries,
) -> Recorded:
    """Write what the platform said of each push: the accepted in one statement, each
    other one on its own (they are few)."""
    sent: list[int] = []
    retried = 0
    failures: list[Failure] = []
    for push, result in zip(batch, results, strict=True):
        c = push.message
        status, due = outcome_of(result, c.attempts, now=now, retries=retries)
        if status is PushStatus.SENT:
            sent.append(c.id)
            continue
        error = (result.error or result.outcome.value)[:200]
        await sql.execute(NOT_SENT, c.id, status.value, due, error)
        if status is PushStatus.FAILED:
            failures.append(Failure(c.id, c.kind, error, c.attempts))
        else:
            retried += 1
    for start in range(0, len(sent), CHUNK):
        ids = sent[start : start + CHUNK]
        await sql.execute(SENT.format(ids=sql.listed(len(ids), first=2)), now, *ids)
    return Recorded(len(sent), retried, len(failures), tuple(failures))


async def push_once(platform: PushPlatform, *, now: datetime, policy: PushPolicy) -> Recorded:
    """One round: claim due pushes, push them, record what came of them."""
    async with in_transaction():
        batch = await claim(now=now, policy=policy)
    if not batch:
        return Recorded()
    outgoing = await messages(batch, timezone=policy.quiet.timezone)
    results = await platform.push(outgoing)
    async with in_transaction():
        return await record(batch, results, now=now, retries=policy.retries)
