"""Texts to the service number: answered by keyword, kept for after-sales, never an error.

`JF`/`积分` answers the member's points and next expiry, `DD`/`订单` the latest order, `TD`
turns off every optional message (answered with a confirmation), `help`/`?`/`帮助` lists the
keywords, a single digit answers the latest open question sent to the number, and any other
text from a member is kept for after-sales. A number that is no member's gets one short
answer a day saying how to join. Answers to any one number are capped per hour, so an
auto-responder on the other side cannot start a loop. Each text is handled in one
transaction: it is stored, and its answer written into the outbox, together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import sql
from models.members import service as members
from models.members.models import Member
from models.members.rules import ALL_OPTIONAL
from models.notifications import rules, templates
from models.notifications.models import InboundHandling as Handling
from models.notifications.models import InboundSms, Notification, NotificationKind, SmsStatus
from models.notifications.ports import InboundSms as Text
from models.points.reads import expiring_points, totals_by_member

MAX_KEPT_CHARACTERS = 2000  # a text longer than any SMS conversation is kept cut
ANSWER_WINDOW = timedelta(days=7)  # a digit answers a question asked within this


@dataclass(frozen=True)
class RouterPolicy:
    replies_per_hour: int = 5
    join_replies_per_day: int = 1


@dataclass(frozen=True)
class Routed:
    handled_as: Handling
    reply: str  # '' when none is sent


MEMBER_BY_MOBILE = (
    "SELECT * FROM member WHERE mobile = $1 ORDER BY updated_at DESC, id DESC LIMIT 1"
)
REPLIES_SINCE = f"""SELECT count(*) AS n FROM notification
WHERE sms_to = $1 AND kind = '{NotificationKind.SMS_REPLY}' AND created_at > $2"""  # noqa: S608 (constants)


async def route(text: Text, *, now: datetime, policy: RouterPolicy) -> Routed:
    """Store a text from a handset and answer it, in one transaction."""
    body = storable(text.text)
    async with in_transaction():
        row = await sql.fetch_one(MEMBER_BY_MOBILE, text.sender)
        member = sql.model(Member, row) if row is not None else None
        parsed = rules.parse(body)
        handled, reply = await _decide(member, parsed, text, now=now)
        if reply and await _capped(text.sender, member, now=now, policy=policy):
            handled, reply = Handling.CAPPED, ""
        inbound = await InboundSms.create(
            sender=text.sender,
            member_id=member.id if member else None,
            text=body,
            handled_as=handled,
            received_at=text.received_at,
        )
        if reply:
            await _answer(inbound.id, text.sender, member, reply, now=now)
        return Routed(handled, reply)


def storable(text: str) -> str:
    """A handset's text as the database can keep it: lone surrogates (broken UTF-16) and NULs
    replaced, cut to `MAX_KEPT_CHARACTERS`."""
    whole = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return whole[:MAX_KEPT_CHARACTERS]


async def _decide(
    member: Member | None, parsed: rules.Parsed, text: Text, *, now: datetime
) -> tuple[Handling, str]:
    if parsed.keyword is rules.Keyword.EMPTY:
        return Handling.EMPTY, ""
    if member is None:
        return Handling.UNKNOWN_NUMBER, templates.reply("join", {}, language="")
    language = member.language
    if parsed.keyword is rules.Keyword.POINTS:
        return Handling.KEYWORD, await _points(member, now=now)
    if parsed.keyword is rules.Keyword.ORDER:
        return Handling.KEYWORD, await _latest_order(member)
    if parsed.keyword is rules.Keyword.STOP:
        await members.turn_off(member_id=member.id, kinds=[ALL_OPTIONAL])
        return Handling.KEYWORD, templates.reply("stopped", {}, language=language)
    if parsed.keyword is rules.Keyword.HELP:
        return Handling.KEYWORD, templates.reply("help", {}, language=language)
    if parsed.keyword is rules.Keyword.ANSWER and await _answered(member, parsed.answer, now=now):
        return Handling.ANSWER, templates.reply("answered", {}, language=language)
    return Handling.KEPT, ""


async def _points(member: Member, *, now: datetime) -> str:
    [totals] = await totals_by_member([member.id])
    soon = await expiring_points(member_id=member.id, now=now, within_days=365)
    expiry: dict[str, Any] = {"expiry_zh": "", "expiry_en": ""}
    if soon:
        first = {"points": soon[0].amount, "expires_on": soon[0].expires_at.date().isoformat()}
        expiry = {
            "expiry_zh": templates.phrase("points_expiry", first, language="zh-CN"),
            "expiry_en": templates.phrase("points_expiry", first, language="en"),
        }
    values = {"available": totals.available, "balance": totals.balance, **expiry}
    return templates.reply("points", values, language=member.language)


LATEST_ORDER = """
SELECT o.number, o.status, o.promised_ship_date, s.carrier, s.tracking_number
FROM redemption_order o LEFT JOIN shipment s ON s.order_id = o.id
WHERE o.member_id = $1 ORDER BY o.id DESC LIMIT 1
"""


async def _latest_order(member: Member) -> str:
    row = await sql.fetch_one(LATEST_ORDER, member.id)
    if row is None:
        return templates.reply("no_order", {}, language=member.language)
    tracking: dict[str, Any] = {"tracking_zh": "", "tracking_en": ""}
    if row["tracking_number"]:
        parcel = {"carrier": row["carrier"], "tracking": row["tracking_number"]}
        tracking = {
            "tracking_zh": templates.phrase("order_tracking", parcel, language="zh-CN"),
            "tracking_en": templates.phrase("order_tracking", parcel, language="en"),
        }
    values = {
        "number": row["number"],
        "status": row["status"],
        "ship_date": str(row["promised_ship_date"] or "")[:10],
        **tracking,
    }
    return templates.reply("order", values, language=member.language)


async def _answered(member: Member, answer: str, *, now: datetime) -> bool:
    """Record `answer` on the latest open question to the member; whether there was one."""
    question = (
        await Notification.filter(
            member_id=member.id,
            kind=NotificationKind.QUESTION,
            answered_at__isnull=True,
            created_at__gt=now - ANSWER_WINDOW,
        )
        .order_by("-id")
        .first()
    )
    if question is None:
        return False
    question.answer, question.answered_at = answer, now
    await question.save(update_fields=["answer", "answered_at"])
    return True


async def _capped(
    sender: str, member: Member | None, *, now: datetime, policy: RouterPolicy
) -> bool:
    """Whether the number had all the answers it may have: per hour, or per day for a number
    that is no member's."""
    if member is None:
        since, cap = now - timedelta(days=1), policy.join_replies_per_day
    else:
        since, cap = now - timedelta(hours=1), policy.replies_per_hour
    row = await sql.fetch_one(REPLIES_SINCE, sender, since)
    return row is not None and int(row["n"]) >= cap


async def _answer(
    inbound_id: int, to: str, member: Member | None, body: str, *, now: datetime
) -> None:
    await Notification.create(
        member_id=member.id if member else None,
        kind=NotificationKind.SMS_REPLY,
        dedupe_key=f"reply:{inbound_id}",
        data={},
        body=body,
        created_at=now,
        sms_to=to,
        sms_status=SmsStatus.PENDING,
        sms_urgent=True,
        sms_due_at=now,
    )
