"""Top-ups sent: the worker's rounds through the charging system, and what an answer or a
callback does to a line.

A round claims the lines due (`next_try_at` passed), moving each one's next look a wait
ahead *before* calling: a worker that dies between the call and its record leaves the line
to the round after that wait, whose status query finds what the charging system did (the
idempotency key is the line's, so the credit lands once however often it is sent). On
PostgreSQL the claim passes over lines another worker holds (`SKIP LOCKED`).

A line's first try sends the credit; a later one asks its status, and sends again only when
the charging system knows nothing of the key. At the promise's end (`deliver_by`) a last
status query decides: DELIVERED stands; anything else is EXPIRED and refunded.

An outcome is recorded by `finish`, which moves only PENDING lines: a replayed or late
answer (a callback after the status query, a FAILED after a DELIVERED) finds the line
already final and changes nothing. A line FAILED or EXPIRED gets its points back into the
lots they came from (`points.refund_part`, once per line by its key) and its face value
back into its gift's budget; its member is told either way. An order with nothing to ship
is DELIVERED once none of its top-ups is pending and something of it was delivered, and
CANCELLED when every line of it was refunded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import sql
from models.notifications import outbox
from models.notifications.models import NotificationKind
from models.notifications.outbox import Notice
from models.orders import lifecycle
from models.points import service as points
from models.topups import placement, rules
from models.topups.models import TopUpStatus
from models.topups.ports import (
    ChargingSystem,
    TopUpAnswer,
    TopUpOutcome,
    TopUpProduct,
    TopUpRequest,
    idempotency_key,
)

log = logging.getLogger("pointsmall.topups")

EXPIRED_REASON = "EXPIRED"
ROUND = 200  # lines claimed by one round


@dataclass(frozen=True)
class Claimed:
    """A line claimed for one try."""

    id: int
    line_id: int
    msisdn: str
    product: TopUpProduct
    face_value: int
    attempts: int
    deliver_by: datetime

    @property
    def key(self) -> str:
        return idempotency_key(self.line_id)

    def request(self) -> TopUpRequest:
        return TopUpRequest(self.key, self.msisdn, self.face_value, self.product)


@dataclass(frozen=True)
class Outcome:
    """What became of a line: DELIVERED, FAILED (with the refusal's code) or EXPIRED."""

    top_up_id: int
    status: TopUpStatus
    reason: str = ""
    transaction_id: str = ""


@dataclass
class RoundReport:
    """What a round did, for the worker's counts."""

    tried: int = 0
    delivered: int = 0
    refunded: int = 0
    waiting: int = 0  # sent, no final answer yet (PENDING or UNKNOWN)
    at_risk: int = 0
    details: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "topups_delivered": self.delivered,
            "topups_refunded": self.refunded,
            "topups_waiting": self.waiting,
            "topups_at_risk": self.at_risk,
        }


def _claim_text(p: sql.Params, *, now: datetime, lease: datetime, limit: int) -> str:
    lock = " FOR UPDATE SKIP LOCKED" if sql.on_postgres() else ""
    at, until = p(now, "timestamptz"), p(lease, "timestamptz")
    return f"""UPDATE top_up SET attempts = attempts + 1,
        next_try_at = CASE WHEN deliver_by < {until} THEN deliver_by ELSE {until} END
    WHERE id IN (SELECT id FROM top_up
                 WHERE status = '{TopUpStatus.PENDING.value}' AND next_try_at <= {at}
                 ORDER BY next_try_at LIMIT {p(limit, "int")}{lock})
    RETURNING id, order_line_id, msisdn, product, face_value, attempts, deliver_by"""  # noqa: S608 (placeholders and constants only)


async def claim(
    *, now: datetime, limit: int = ROUND, wait: timedelta = rules.WAITS[0]
) -> list[Claimed]:
    """The lines due at `now`, each one's next look moved `wait` ahead (not past its
    promise)."""
    p = sql.Params()
    lease = now + wait
    rows = await sql.fetch(_claim_text(p, now=now, lease=lease, limit=limit), *p.values)
    return [
        Claimed(
            id=int(row["id"]),
            line_id=int(row["order_line_id"]),
            msisdn=str(row["msisdn"]),
            product=TopUpProduct(row["product"]),
            face_value=int(row["face_value"]),
            attempts=int(row["attempts"]),
            deliver_by=sql.moment(row["deliver_by"]),
        )
        for row in rows
    ]


async def ask(charging: ChargingSystem, line: Claimed, *, now: datetime) -> TopUpAnswer:
    """This try's question: the credit the first time, its status after that (and the
    credit again if the charging system never received it)."""
    if line.attempts == 1 and now < line.deliver_by:
        return await charging.credit(line.request())
    answer = await charging.status(line.key)
    if answer.outcome is TopUpOutcome.UNKNOWN and now < line.deliver_by:
        return await charging.credit(line.request())
    return answer


def outcome_of(line: Claimed, answer: TopUpAnswer, *, now: datetime) -> Outcome | None:
    """The line's end, if the answer (or the promise's end) makes one."""
    if answer.outcome is TopUpOutcome.DELIVERED:
        return Outcome(line.id, TopUpStatus.DELIVERED, transaction_id=answer.transaction_id)
    if answer.outcome is TopUpOutcome.FAILED:
        return Outcome(line.id, TopUpStatus.FAILED, answer.reason, answer.transaction_id)
    if now >= line.deliver_by:
        return Outcome(line.id, TopUpStatus.EXPIRED, EXPIRED_REASON, answer.transaction_id)
    return None


RESCHEDULE = "UPDATE top_up SET next_try_at = $2 WHERE id = $1 AND status = 'PENDING'"


async def deliver_round(
    charging: ChargingSystem,
    *,
    now: datetime,
    limit: int = ROUND,
    waits: tuple[timedelta, ...] = rules.WAITS,
) -> RoundReport:
    """One round: claim the due lines, ask the charging system of each (at once, as many as
    the client allows), record what ended and set when the rest are looked at again."""
    report = RoundReport()
    claimed = await claim(now=now, limit=limit, wait=waits[0])
    report.tried = len(claimed)
    if claimed:
        answers = await asyncio.gather(*(ask(charging, line, now=now) for line in claimed))
        ended = []
        for line, answer in zip(claimed, answers, strict=True):
            outcome = outcome_of(line, answer, now=now)
            if outcome is not None:
                ended.append(outcome)
                continue
            report.waiting += 1
            if answer.outcome is TopUpOutcome.UNKNOWN:
                log.info(
                    "top-up %s: no answer (%s), try %d", line.key, answer.detail, line.attempts
                )
            later = rules.next_try(
                tried=line.attempts, now=now, deliver_by=line.deliver_by, waits=waits
            )
            if later != min(now + waits[0], line.deliver_by):
                await sql.execute(RESCHEDULE, line.id, later)
        finished = await finish(ended, now=now)
        report.delivered = sum(1 for f in finished if f.status is TopUpStatus.DELIVERED)
        report.refunded = len(finished) - report.delivered
    report.at_risk = await alert_at_risk(now=now)
    return report


LINE_OF = "SELECT id, status FROM top_up WHERE order_line_id = $1"


async def apply_notice(
    *, line_id: int, outcome: TopUpOutcome, reason: str, transaction_id: str, now: datetime
) -> bool:
    """A callback's outcome (DELIVERED or FAILED) on the line's top-up; whether it moved the
    line (False: unknown line, or already final)."""
    row = await sql.fetch_one(LINE_OF, line_id)
    if row is None:
        return False
    status = TopUpStatus.DELIVERED if outcome is TopUpOutcome.DELIVERED else TopUpStatus.FAILED
    done = await finish([Outcome(int(row["id"]), status, reason, transaction_id)], now=now)
    if done:
        return True
    if status is TopUpStatus.DELIVERED and row["status"] == TopUpStatus.EXPIRED.value:
        # The promise ended first and the points went back: the operator settles it.
        log.warning("topup:%d was credited after its refund (late confirmation)", line_id)
    else:
        log.info("charging callback for topup:%d: the line is already final", line_id)
    return False


@dataclass(frozen=True)
class Finished:
    """A line that `finish` moved to its end (and the facts its end needs)."""

    id: int
    line_id: int
    order_id: int
    member_id: int
    gift_id: int
    status: TopUpStatus
    reason: str
    product: TopUpProduct
    face_value: int
    msisdn: str
    budget_day: date
    number: str
    points: int


FINISH = """UPDATE top_up SET status = $2, reason = $3, transaction_id = $4, finished_at = $5
WHERE id = $1 AND status = 'PENDING'
RETURNING id, order_line_id, order_id, member_id, gift_id, status, reason, product,
          face_value, msisdn, budget_day"""

FINISH_MANY = """UPDATE top_up t SET status = o.status, reason = o.reason,
    transaction_id = o.transaction_id, finished_at = $5
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
     AS o(id, status, reason, transaction_id)
WHERE t.id = o.id AND t.status = 'PENDING'
RETURNING t.id, t.order_line_id, t.order_id, t.member_id, t.gift_id, t.status, t.reason,
          t.product, t.face_value, t.msisdn, t.budget_day"""

LINES = """SELECT l.id, l.points_each * l.quantity AS points, o.number
FROM order_line l JOIN redemption_order o ON o.id = l.order_id
WHERE l.id IN ({ids})"""


async def finish(outcomes: Sequence[Outcome], *, now: datetime) -> list[Finished]:
    """Record each outcome on its line if the line is still PENDING, in one transaction:
    refunds, budgets, messages and the orders it completes go with it. The lines it moved
    (a line already final is left as it is, and not returned)."""
    if not outcomes:
        return []
    async with in_transaction():
        await _lock_orders([o.top_up_id for o in outcomes])
        rows = await _moved(outcomes, now=now)
        if not rows:
            return []
        ids = [int(row["order_line_id"]) for row in rows]
        lines = {
            int(r["id"]): r for r in await sql.fetch(LINES.format(ids=sql.listed(len(ids))), *ids)
        }
        finished = [_finished(row, lines[int(row["order_line_id"])]) for row in rows]
        for done in finished:
            if done.status is not TopUpStatus.DELIVERED:
                await _refund(done, now=now)
        await _tell(finished, now=now)
        await complete_orders(sorted({f.order_id for f in finished}), now=now)
    return finished


LOCK_ORDERS = """SELECT o.id FROM redemption_order o
WHERE o.id IN (SELECT order_id FROM top_up WHERE id IN ({ids}))
ORDER BY o.id FOR NO KEY UPDATE"""


async def _lock_orders(top_up_ids: Sequence[int]) -> None:
    """Lock the lines' orders first (PostgreSQL; SQLite has one writer at a time), the lock
    order of every order's move: two lines of one order ending at once then settle it in
    turn, the second seeing the first's end, so the last one always completes the order."""
    if sql.on_postgres():
        await sql.fetch(LOCK_ORDERS.format(ids=sql.listed(len(top_up_ids))), *top_up_ids)


async def _moved(outcomes: Sequence[Outcome], *, now: datetime) -> list[dict[str, Any]]:
    if sql.on_postgres():
        return await sql.fetch(
            FINISH_MANY,
            [o.top_up_id for o in outcomes],
            [o.status.value for o in outcomes],
            [o.reason for o in outcomes],
            [o.transaction_id for o in outcomes],
            now,
        )
    rows = []
    for o in outcomes:
        rows += await sql.fetch(
            FINISH, o.top_up_id, o.status.value, o.reason, o.transaction_id, now
        )
    return rows


def _finished(row: dict[str, Any], line: dict[str, Any]) -> Finished:
    return Finished(
        id=int(row["id"]),
        line_id=int(row["order_line_id"]),
        order_id=int(row["order_id"]),
        member_id=int(row["member_id"]),
        gift_id=int(row["gift_id"]),
        status=TopUpStatus(row["status"]),
        reason=str(row["reason"]),
        product=TopUpProduct(row["product"]),
        face_value=int(row["face_value"]),
        msisdn=str(row["msisdn"]),
        budget_day=sql.day(row["budget_day"]),
        number=str(line["number"]),
        points=int(line["points"]),
    )


async def _refund(done: Finished, *, now: datetime) -> None:
    """The line's points back into the lots they came from, and its face value into the
    day's budget."""
    if done.points > 0:
        await points.refund_part(
            order_number=done.number,
            amount=done.points,
            external_ref=idempotency_key(done.line_id),
            now=now,
            reason=f"Top-up of order {done.number} not delivered ({done.reason})",
        )
    await placement.give_back(gift_id=done.gift_id, day=done.budget_day, face_value=done.face_value)


async def _tell(finished: Sequence[Finished], *, now: datetime) -> None:
    for kind, status in (
        (NotificationKind.TOPUP_DELIVERED, (TopUpStatus.DELIVERED,)),
        (NotificationKind.TOPUP_REFUNDED, (TopUpStatus.FAILED, TopUpStatus.EXPIRED)),
    ):
        notices = [
            Notice(
                member_id=f.member_id,
                dedupe_key=f"topup:{f.line_id}:{kind.value}",
                data=_data(f),
                order_id=f.order_id,
            )
            for f in finished
            if f.status in status
        ]
        await outbox.notify_many(kind, notices, now=now)


def _data(f: Finished) -> dict[str, object]:
    amount_zh, amount_en = rules.amount(f.product, f.face_value)
    why_zh, why_en = rules.refusal(f.reason)
    data: dict[str, object] = {
        "number": f.number,
        "points": f.points,
        "amount_zh": amount_zh,
        "amount_en": amount_en,
        "msisdn": rules.masked(f.msisdn),
    }
    if f.status is not TopUpStatus.DELIVERED:
        data |= {"reason": f.reason, "why_zh": why_zh, "why_en": why_en}
    return data


# The orders of nothing to ship whose top-ups all ended, and whether any line of each
# still stands (a code, a credit that landed).
SETTLED = """SELECT o.id, EXISTS (
    SELECT 1 FROM order_line l WHERE l.order_id = o.id
      AND NOT EXISTS (SELECT 1 FROM top_up t
                      WHERE t.order_line_id = l.id AND t.status IN ('FAILED', 'EXPIRED'))
  ) AS stands
FROM redemption_order o
WHERE o.id IN ({ids}) AND o.status = 'CONFIRMED' AND o.warehouse_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM top_up t WHERE t.order_id = o.id AND t.status = 'PENDING')"""


async def complete_orders(order_ids: Sequence[int], *, now: datetime) -> None:
    """The orders of `order_ids` that nothing holds open any more: delivered if something of
    them stands, cancelled if every line was refunded (`lifecycle.digital_settled`)."""
    if not order_ids:
        return
    rows = await sql.fetch(SETTLED.format(ids=sql.listed(len(order_ids))), *order_ids)
    await lifecycle.digital_settled(
        delivered=[int(r["id"]) for r in rows if r["stands"]],
        cancelled=[int(r["id"]) for r in rows if not r["stands"]],
        reason="top-up not delivered: points refunded",
        now=now,
    )


AT_RISK = """UPDATE top_up SET alerted_at = $1
WHERE status = 'PENDING' AND alerted_at IS NULL AND at_risk_at <= $1
RETURNING order_line_id, deliver_by"""


async def alert_at_risk(*, now: datetime) -> int:
    """Lines past their at-risk time (half their promise) and still undelivered: a WARNING
    each, once."""
    rows = await sql.fetch(AT_RISK, now)
    for row in rows:
        log.warning(
            "top-up topup:%s at risk: undelivered, its promise ends %s",
            row["order_line_id"],
            sql.moment(row["deliver_by"]).isoformat(),
        )
    return len(rows)
