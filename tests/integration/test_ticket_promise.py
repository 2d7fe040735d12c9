"""The 48-hour promise: a reply in time keeps it, an internal note does not, a wait stops the
clock; a breached first reply is compensated once, whoever races for it."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

from models.aftersales import replies, tickets
from models.aftersales.models import ServiceAlertKind, TicketAlert, TicketDeadline, TicketState
from models.notifications.models import Notification, NotificationKind
from models.points.audit import audit
from models.points.models import EntryKind, PointsAccount, PointsEntry
from tests.support.aftersales import AGENT, POLICY, fresh, member, opened, pass_at
from tests.support.members import member_with_points
from tests.support.server import ROOT

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def alerts_of(ticket_id: int) -> list[tuple[str, int]]:
    rows = await TicketAlert.filter(ticket_id=ticket_id).order_by("id").values_list("kind", "cycle")
    return [(str(kind), cycle) for kind, cycle in rows]


async def compensations() -> list[tuple[str, int, str]]:
    rows = await PointsEntry.filter(kind=EntryKind.COMPENSATION).order_by("id")
    return [(str(e.external_ref), int(e.delta), e.reason) for e in rows]


async def test_a_ticket_answered_in_time_is_on_time_and_breaches_nothing(db: str) -> None:
    await member_with_points("TP1", 1_000)
    ticket = await opened("TP1", at=T0)
    assert await TicketDeadline.filter(ticket_id=ticket.id).count() == 4  # reply and resolve
    await replies.reply(
        actor=AGENT, number=ticket.number, text="我们马上处理", now=T0 + 2 * HOUR, policy=POLICY
    )
    answered = await fresh(ticket)
    assert answered.first_replied_at == T0 + 2 * HOUR
    assert answered.first_replied_at < answered.first_reply_due_at
    assert answered.state is TicketState.OPEN
    assert answered.assignee == AGENT.subject

    report = await pass_at(T0 + 49 * HOUR)

    assert report.counts()["ticket_breached"] == 0
    assert await alerts_of(ticket.id) == []
    assert await compensations() == []


async def test_a_ticket_answered_only_by_an_internal_note_breaches_at_48_hours_once(
    db: str,
) -> None:
    await member_with_points("TP2", 1_000)
    ticket = await opened("TP2", at=T0)
    await replies.note(
        actor=AGENT, number=ticket.number, text="looks like a carrier fault", now=T0 + HOUR
    )
    assert (await fresh(ticket)).first_replied_at is None, "a note is no reply"

    early = await pass_at(T0 + 41 * HOUR)
    assert early.counts()["ticket_at_risk"] == 1
    assert early.counts()["ticket_breached"] == 0
    assert await alerts_of(ticket.id) == [(ServiceAlertKind.FIRST_REPLY_AT_RISK, 0)]
    assert (await pass_at(T0 + 48 * HOUR - timedelta(seconds=1))).counts()["ticket_breached"] == 0

    breached = await pass_at(T0 + 48 * HOUR)
    again = await pass_at(T0 + 49 * HOUR)

    assert breached.counts()["ticket_breached"] == 1
    assert breached.counts()["ticket_compensated"] == 1
    assert again.counts()["ticket_breached"] == 0
    assert again.counts()["ticket_compensated"] == 0
    [(ref, delta, reason)] = await compensations()
    assert (ref, delta) == (f"ticket-compensation:{ticket.number}", 100)
    assert ticket.number in reason
    told = await Notification.filter(kind=NotificationKind.TICKET_BREACHED).values_list(
        "data", flat=True
    )
    assert told == [{"ticket": ticket.number, "compensation": 100, "reply_hours": 48}]
    assert (await PointsAccount.get(member__external_id="TP2")).balance == 1_100
    assert await audit() == []


async def test_a_ticket_waiting_on_the_member_does_not_breach_while_it_waits(db: str) -> None:
    await member_with_points("TP3", 1_000)
    ticket = await opened("TP3", at=T0)
    await replies.wait_on_member(actor=AGENT, number=ticket.number, now=T0 + HOUR, policy=POLICY)
    assert not await TicketDeadline.filter(ticket_id=ticket.id).exists(), "the clock stopped"

    ten_days = T0 + timedelta(days=10)
    assert (await pass_at(ten_days)).counts()["ticket_breached"] == 0
    await tickets.add_message(
        actor=member("TP3"),
        number=ticket.number,
        text="照片已上传",
        photo_urls=["https://img.example.com/a.jpg"],
        now=ten_days,
        policy=POLICY,
    )
    resumed = await fresh(ticket)
    assert resumed.state is TicketState.OPEN
    # 47 hours were left when it began to wait; they run from the member's answer on.
    assert resumed.first_reply_due_at == ten_days + 47 * HOUR
    assert (await pass_at(ten_days + 46 * HOUR)).counts()["ticket_breached"] == 0
    assert (await pass_at(ten_days + 47 * HOUR)).counts()["ticket_breached"] == 1
    assert await alerts_of(ticket.id) == [
        (ServiceAlertKind.FIRST_REPLY_AT_RISK, 0),
        (ServiceAlertKind.FIRST_REPLY_BREACHED, 0),
    ]


async def test_a_later_message_is_owed_an_answer_within_a_day(db: str) -> None:
    await member_with_points("TP4", 1_000)
    ticket = await opened("TP4", at=T0)
    await replies.log_call(
        actor=AGENT,
        number=ticket.number,
        outcome="called, parcel is lost",
        notes="",
        now=T0 + HOUR,
        policy=POLICY,
    )
    assert (await fresh(ticket)).first_replied_at == T0 + HOUR, "a logged call is a reply"
    await tickets.add_message(
        actor=member("TP4"),
        number=ticket.number,
        text="还没收到",
        photo_urls=[],
        now=T0 + 5 * HOUR,
        policy=POLICY,
    )
    assert (await fresh(ticket)).reply_due_at == T0 + 29 * HOUR

    await pass_at(T0 + 29 * HOUR)

    assert await alerts_of(ticket.id) == [
        (ServiceAlertKind.REPLY_AT_RISK, 1),
        (ServiceAlertKind.REPLY_BREACHED, 1),
    ]
    assert await compensations() == [], "only a breached first reply is compensated"


async def test_breach_compensation_is_paid_once_with_several_workers_racing(db: str) -> None:
    await member_with_points("TPR", 1_000)
    await member_with_points("TPS", 1_000)
    opened_tickets = [
        await opened("TPR" if i % 2 else "TPS", f"问题 {i}", at=T0) for i in range(12)
    ]

    reports = await asyncio.gather(*(pass_at(T0 + 49 * HOUR, batch=5) for _ in range(3)))

    assert sum(r.counts()["ticket_breached"] for r in reports) == 12
    assert sum(r.counts()["ticket_compensated"] for r in reports) == 12
    refs = sorted(ref for ref, _, _ in await compensations())
    assert refs == sorted(f"ticket-compensation:{t.number}" for t in opened_tickets)
    assert {
        a.balance for a in await PointsAccount.filter(member__external_id__startswith="TP")
    } == {1_600}
    assert await audit() == []


async def test_worker_once_49_hours_later_breaches_once_and_credits_once(
    db: str, database_url: str
) -> None:
    await member_with_points("TPW", 1_000)
    now = datetime.now(UTC)
    ticket = await opened("TPW", at=now)

    async def worker_once(at: datetime) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "api.cli",
            "worker",
            "--once",
            "--now",
            at.isoformat(),
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        return out.decode()

    first = await worker_once(now + 49 * HOUR)
    second = await worker_once(now + 50 * HOUR)

    assert "tickets at risk 1, breached 1; compensated 1" in first
    assert "tickets at risk 0, breached 0; compensated 0" in second
    [(ref, delta, _)] = await compensations()
    assert (ref, delta) == (f"ticket-compensation:{ticket.number}", 100)
