"""Reading notifications: a member's inbox, the operators' view of deliveries, the report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models import sql, validation
from models.errors import InvalidInput
from models.notifications import rules
from models.notifications.models import Notification, NotificationKind, SmsStatus
from models.paging import Page, SortKey, paginate

NEWEST_FIRST = (SortKey("id", descending=True),)


async def inbox(*, member_id: int, first: int, after: str | None) -> Page[Notification]:
    """A member's messages, newest first (answers to their texts stay in the SMS app)."""
    query = Notification.filter(member_id=member_id).exclude(kind__in=list(rules.NOT_IN_INBOX))
    return await paginate(
        query, keys=NEWEST_FIRST, first=first, after=after, key_of=lambda n: [n.id]
    )


UNREAD = f"""SELECT count(*) AS n FROM notification
WHERE member_id = $1 AND read_at IS NULL
  AND kind NOT IN ({", ".join(f"'{k}'" for k in sorted(rules.NOT_IN_INBOX))})"""  # noqa: S608 (constants)


async def unread(*, member_id: int) -> int:
    row = await sql.fetch_one(UNREAD, member_id)
    return 0 if row is None else int(row["n"])


async def notifications_by_ids(
    ids: Sequence[int], *, member_id: int | None
) -> list[Notification | None]:
    """Notifications by id for loaders; another member's come back as None (`member_id`
    None: an operator, who sees all)."""
    found = {n.id: n for n in await Notification.filter(id__in=list(ids))}
    return [
        n if n is not None and (member_id is None or n.member_id == member_id) else None
        for n in (found.get(i) for i in ids)
    ]


@dataclass(frozen=True)
class DeliveryFilter:
    member_id: int | None = None
    kind: NotificationKind | None = None
    status: SmsStatus | None = None
    since: datetime | None = None
    until: datetime | None = None


async def deliveries(*, where: DeliveryFilter, first: int, after: str | None) -> Page[Notification]:
    """What went out, newest first, for operators; raises InvalidInput for a bad window."""
    query = Notification.all()
    if where.member_id is not None:
        query = query.filter(member_id=where.member_id)
    if where.kind is not None:
        query = query.filter(kind=where.kind)
    if where.status is not None:
        query = query.filter(sms_status=where.status)
    if where.since is not None:
        query = query.filter(created_at__gte=validation.moment(where.since, field="since"))
    if where.until is not None:
        query = query.filter(created_at__lt=validation.moment(where.until, field="until"))
    return await paginate(
        query, keys=NEWEST_FIRST, first=first, after=after, key_of=lambda n: [n.id]
    )


@dataclass(frozen=True)
class DeliveryReport:
    written: int
    sent: int
    delivered: int
    failed: int  # refused for good, out of tries, undeliverable or expired
    skipped: int
    waiting: int  # not sent yet: pending or being sent
    median_seconds: float | None  # from the change's commit to the handset's receipt
    p95_seconds: float | None


REPORT = f"""SELECT sms_status AS status, count(*) AS n FROM notification
WHERE created_at >= $1 AND created_at < $2 AND kind <> '{NotificationKind.SMS_REPLY}'
GROUP BY sms_status"""  # noqa: S608 (constants)
DELIVERED_TIMES = f"""SELECT created_at, sms_finished_at FROM notification
WHERE created_at >= $1 AND created_at < $2 AND sms_status = '{SmsStatus.DELIVERED}'
  AND kind <> '{NotificationKind.SMS_REPLY}'"""  # noqa: S608 (constants)
ACCEPTED = (SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.UNDELIVERABLE, SmsStatus.EXPIRED)
MAX_REPORT_ROWS = 200_000  # the percentiles read at most this many deliveries


async def report(*, since: datetime, until: datetime) -> DeliveryReport:
    """How the messages written in [since, until) fared; raises InvalidInput."""
    since = validation.moment(since, field="since")
    until = validation.moment(until, field="until")
    if since >= until:
        raise InvalidInput("since must be before until", field="since")
    counts = {SmsStatus(r["status"]): int(r["n"]) for r in await sql.fetch(REPORT, since, until)}
    rows = await sql.fetch(f"{DELIVERED_TIMES} LIMIT {MAX_REPORT_ROWS}", since, until)
    seconds = sorted(
        (sql.moment(r["sms_finished_at"]) - sql.moment(r["created_at"])).total_seconds()
        for r in rows
        if r["sms_finished_at"] is not None
    )
    failed = sum(
        counts.get(s, 0) for s in (SmsStatus.FAILED, SmsStatus.UNDELIVERABLE, SmsStatus.EXPIRED)
    )
    return DeliveryReport(
        written=sum(counts.values()),
        sent=sum(counts.get(s, 0) for s in ACCEPTED),
        delivered=counts.get(SmsStatus.DELIVERED, 0),
        failed=failed,
        skipped=counts.get(SmsStatus.SKIPPED, 0),
        waiting=counts.get(SmsStatus.PENDING, 0) + counts.get(SmsStatus.SENDING, 0),
        median_seconds=round(statistics.median(seconds), 3) if seconds else None,
        p95_seconds=round(_percentile(seconds, 0.95), 3) if seconds else None,
    )


def _percentile(ordered: Sequence[float], share: float) -> float:
    """Linear between the two nearest ranks (as PostgreSQL's percentile_cont)."""
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


QUEUE = f"""SELECT count(*) AS n, min(sms_due_at) AS oldest FROM notification
WHERE sms_status = '{SmsStatus.PENDING}' AND sms_due_at <= $1"""  # noqa: S608 (constants)


@dataclass(frozen=True)
class Queue:
    due: int
    oldest_seconds: float


async def queue(*, now: datetime) -> Queue:
    """How many messages are due and how long the oldest has waited (for /metrics)."""
    row = await sql.fetch_one(QUEUE, now)
    if row is None or row["oldest"] is None:
        return Queue(0, 0.0)
    return Queue(int(row["n"]), max(0.0, (now - sql.moment(row["oldest"])).total_seconds()))
