"""Writing messages into the outbox, in the transaction of the change they tell of.

One statement text writes a notification for every change (`notice_text`): the member's
inbox row, its SMS and its push in one row, the SMS already decided from the member's contact (no
mobile, or a kind the member turned off: SKIPPED). The redemption composes it into the
order's own statement (`OrderConfirmed`, an `OrderEffect`); every other change calls
`notify` in its own transaction. `dedupe_key` names the change, so a change written twice
(a retried pass, a webhook delivered again) still tells the member once.

Quiet hours are the delivery loop's to keep (`rules.QuietHours`): a message is due when it
is written, and the loop holds non-urgent ones back while members sleep.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from models import sql
from models.events import NOTIFICATIONS, notify_text, touched
from models.notifications import rules
from models.notifications.models import NotificationKind as Kind
from models.notifications.models import PushStatus, SmsStatus
from models.orders.models import Order, OrderStatus
from models.orders.ports import PLACED, OrderEffect

COLUMNS = (
    "member_id, order_id, kind, dedupe_key, data, body, created_at, read_at, sms_to, "
    "sms_status, sms_urgent, sms_due_at, sms_attempts, sms_message_id, sms_parts, sms_error, "
    "answer, push_status, push_due_at, push_attempts, push_error"
)


def notice_text(
    p: sql.Params,
    *,
    kind: Kind,
    member_id: str,
    order_id: str,
    dedupe_key: str,
    data: str,
    now: datetime,
    source: str = "",
    where: str = "",
) -> str:
    """The notification of one change for the member whose id is the SQL expression given
    (so are `order_id`, `dedupe_key` and `data`, the JSON of its values), for each row of
    `source` (when given) that `where` keeps; nothing for a change already told."""
    opted_out = "FALSE" if kind in rules.ESSENTIAL else _opted_out(p, kind)
    skipped = f"""CASE WHEN m.mobile = '' THEN 'no mobile number'
                     WHEN {opted_out} THEN 'turned off by the member' ELSE '' END"""
    status = f"""CASE WHEN m.mobile = '' OR {opted_out} THEN '{SmsStatus.SKIPPED}'
                      ELSE '{SmsStatus.PENDING}' END"""
    # The push waits for a worker with a push platform; none configured, it is never sent.
    push = f"""CASE WHEN {opted_out} THEN '{PushStatus.SKIPPED}' ELSE '{PushStatus.PENDING}' END"""
    push_skipped = f"CASE WHEN {opted_out} THEN 'turned off by the member' ELSE '' END"
    at = p(now, "timestamptz")
    return f"""INSERT INTO notification ({COLUMNS})
    SELECT m.id, {order_id}, {p(kind.value, "text")}, {dedupe_key}, {data}, '', {at}, NULL,
           m.mobile, {status}, {p(kind in rules.URGENT, "boolean")}, {at}, 0, '', 0, {skipped},
           '', {push}, {at}, 0, {push_skipped}
    FROM {source + ", " if source else ""}member m
    WHERE m.id = {member_id}{f" AND ({where})" if where else ""}
    ON CONFLICT (dedupe_key) DO NOTHING"""  # noqa: S608 (placeholders and constants only)


def _opted_out(p: sql.Params, kind: Kind) -> str:
    return f"(m.opt_outs LIKE {p(f'%,{kind.value},%')} OR m.opt_outs LIKE '%,ALL,%')"


def json_of(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=_plain)


def _plain(value: object) -> str:
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a message value")


def told_text(p: sql.Params, *, member_id: str) -> str:
    """PostgreSQL's notice that the member's inbox changed (the member's id, an SQL
    expression), for live subscribers on every replica."""
    return notify_text(p, NOTIFICATIONS, f"CAST({member_id} AS text)")


@dataclass(frozen=True)
class Notice:
    """One change to tell a member of."""

    member_id: int
    dedupe_key: str
    data: Mapping[str, Any]
    order_id: int | None = None


async def notify_many(kind: Kind, notices: Sequence[Notice], *, now: datetime) -> None:
    """`notify` for several members at once: one statement on PostgreSQL."""
    if not notices:
        return
    if not sql.on_postgres():
        for notice in notices:
            await notify(
                kind=kind,
                member_id=notice.member_id,
                dedupe_key=notice.dedupe_key,
                data=notice.data,
                now=now,
                order_id=notice.order_id,
            )
        return
    p = sql.Params()
    rows = f"""unnest({p([n.member_id for n in notices], "bigint[]")},
                 {p([n.order_id for n in notices], "bigint[]")},
                 {p([n.dedupe_key for n in notices], "text[]")},
                 {p([json_of(n.data) for n in notices], "jsonb[]")})
           AS n(member_id, order_id, dedupe_key, data)"""
    text = notice_text(
        p,
        kind=kind,
        member_id="n.member_id",
        order_id="n.order_id",
        dedupe_key="n.dedupe_key",
        data="n.data",
        now=now,
        source=rows,
    )
    members = sorted({n.member_id for n in notices})
    told = notify_text(p, NOTIFICATIONS, "CAST(t AS text)")
    told_each = f"{told} FROM unnest({p(members, 'bigint[]')}) AS t"
    await sql.fetch(sql.composed([("notices", text), ("told", told_each)], columns="1"), *p.values)
    for member_id in members:
        touched(NOTIFICATIONS, str(member_id))


async def notify(
    *,
    kind: Kind,
    member_id: int,
    dedupe_key: str,
    data: Mapping[str, Any],
    now: datetime,
    order_id: int | None = None,
) -> None:
    """Tell the member of one change, in the caller's transaction (told once per key)."""
    p = sql.Params()
    text = notice_text(
        p,
        kind=kind,
        member_id=p(member_id, "bigint"),
        order_id=p(order_id, "bigint"),
        dedupe_key=p(dedupe_key, "text"),
        data=p(json_of(data), "jsonb"),
        now=now,
    )
    await sql.execute(text, *p.values)
    if sql.on_postgres():
        told = sql.Params()
        await sql.fetch(told_text(told, member_id=told(member_id, "bigint")), *told.values)
    touched(NOTIFICATIONS, str(member_id))


def credit_key(ref: str) -> str:
    """A credit is told once by its reference, however often its file comes."""
    return f"credit:{ref}"


def staged_credits_text(p: sql.Params, *, staged: str, tell_from: int, now: datetime) -> str:
    """PostgreSQL: tell each member of the credits of `tell_from` points or more in the
    import's staged batch (`staged`, a table of member_id, amount, external_ref, reason and
    outcome, NULL for the credited)."""
    return notice_text(
        p,
        kind=Kind.POINTS_CREDITED,
        member_id="s.member_id",
        order_id="NULL::bigint",
        dedupe_key=f"{p('credit:')} || s.external_ref",
        data="jsonb_build_object('points', s.amount, 'reason', s.reason)",
        now=now,
        source=f"{staged} AS s",
        where=f"s.outcome IS NULL AND s.amount >= {p(tell_from, 'bigint')}",
    )


def order_key(number: str, kind: Kind) -> str:
    return f"order:{number}:{kind.value}"


@dataclass(frozen=True)
class OrderConfirmed(OrderEffect):
    """A points-only order is confirmed as it is placed: its member hears of it in the
    order's own statement (an order awaiting payment hears when it is paid). An order with
    nothing to ship is told of by its lines instead (its code is ready, its credit landed),
    within minutes."""

    def steps(self, p: sql.Params, order: Order, *, postgres: bool) -> list[str]:
        if not self._told(order):
            return []
        notice = notice_text(
            p,
            kind=Kind.ORDER_CONFIRMED,
            member_id=f"{PLACED}.member_id",
            order_id=f"{PLACED}.id",
            dedupe_key=f"{p('order:')} || {PLACED}.number || {p(':' + Kind.ORDER_CONFIRMED.value)}",
            data=p(json_of(order_data(order)), "jsonb"),
            now=order.placed_at,
            source=PLACED,
        )
        if not postgres:
            return [notice]
        told = f"{told_text(p, member_id=f'{PLACED}.member_id')} FROM {PLACED}"
        return [notice, told]

    def written(self, order: Order, *, postgres: bool) -> None:
        if self._told(order):
            touched(NOTIFICATIONS, str(order.member_id))

    @staticmethod
    def _told(order: Order) -> bool:
        return order.status is OrderStatus.CONFIRMED and order.promised_ship_date is not None


ORDER_CONFIRMED = OrderConfirmed()


def order_data(order: Order, **more: Any) -> dict[str, Any]:
    """What a message about an order may say: its number and points (its ship date is read
    when the message goes, as the order may have moved to another day meanwhile)."""
    return {"number": order.number, "points": int(order.points_total), **more}


# The order statuses a member hears of, and what each message is.
STATUS_KINDS = {
    OrderStatus.CONFIRMED: Kind.ORDER_CONFIRMED,
    OrderStatus.SHIPPED: Kind.ORDER_SHIPPED,
    OrderStatus.DELIVERED: Kind.ORDER_DELIVERED,
    OrderStatus.CANCELLED: Kind.ORDER_CANCELLED,
}


async def order_moved(order: Order, *, now: datetime, details: Mapping[str, Any]) -> None:
    """Tell the order's member that it moved to its current status, if members hear of it."""
    kind = STATUS_KINDS.get(order.status)
    if kind is None:
        return
    await notify(
        kind=kind,
        member_id=order.member_id,
        dedupe_key=order_key(order.number, kind),
        data=order_data(order, **details),
        now=now,
        order_id=order.id,
    )
