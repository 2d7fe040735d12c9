"""After-sales' periodic work: the promise's alerts and compensation, the texts the SMS router
kept, and closing tickets a week after their resolution.

A ticket's promises are watched as every promise with a deadline is
(`models.promises.sweep`): `TicketPromises` is the ticket's side of it (its deadline and
alert tables, which promises are still owed by the clock). A breached first reply owes the
member a goodwill `COMPENSATION` of `TicketPolicy.compensation_points`, credited once
(`external_ref` `ticket-compensation:<number>`), told to the member with it.

Texts: the router stores every text from a handset (`sms_inbound`) and answers what it can;
a known member's other text (KEPT) becomes a ticket or joins their open one, and a digit
is a survey's answer (matched by the router to the latest open question, ANSWER, or a later
answer, KEPT). Each text is taken in once (`aftersales_intake`, unique per text): a pass
reads the texts above the newest taken in, less a margin for texts whose transactions
committed out of order, so its cost follows the new texts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import sql
from models.aftersales import promise, returns, rules, surveys, tickets
from models.aftersales.models import (
    InboundIntake,
    ServiceAlertKind,
    Ticket,
    TicketAlert,
    TicketDeadline,
    TicketState,
)
from models.aftersales.rules import TicketPolicy
from models.events import SERVICE_ALERTS
from models.jobs import Job
from models.notifications import outbox
from models.notifications.models import InboundHandling
from models.notifications.models import NotificationKind as Kind
from models.orders.ports import PaymentStarter
from models.promises import sweep
from models.promises.sweep import DueDeadline, NewAlert, Owed

log = logging.getLogger("pointsmall.sweeper")
BATCH = 100
# Texts below the newest taken in that a pass still looks at: a text whose transaction
# committed after a later one's was taken in is found within it.
INTAKE_MARGIN = 1000
BREACHES = {
    ServiceAlertKind.FIRST_REPLY_BREACHED,
    ServiceAlertKind.REPLY_BREACHED,
    ServiceAlertKind.RESOLUTION_BREACHED,
}


def jobs(*, policy: TicketPolicy, batch: int, gateway: PaymentStarter | None = None) -> list[Job]:
    """After-sales' jobs in the order a pass runs them: texts in (they open tickets and
    move clocks), alerts, compensation, closing, and the cash refunds of returns Stripe
    missed (none without a gateway)."""

    async def texts(*, now: datetime) -> dict[str, int]:
        return {"texts_taken": await take_in_texts(now=now, policy=policy, batch=batch)}

    async def alerts(*, now: datetime) -> dict[str, int]:
        raised = await raise_ticket_alerts(now=now, policy=policy, batch=batch)
        at_risk = sum(1 for kind in raised if kind not in BREACHES)
        return {"ticket_at_risk": at_risk, "ticket_breached": len(raised) - at_risk}

    async def compensation(*, now: datetime) -> dict[str, int]:
        done = await compensate_first_replies(now=now, policy=policy, batch=batch)
        return {"ticket_compensated": done}

    async def closing(*, now: datetime) -> dict[str, int]:
        return {"tickets_closed": await close_resolved(now=now, policy=policy, batch=batch)}

    async def cash(*, now: datetime) -> dict[str, int]:
        return {"returns_refunded": await returns.refund_pending_cash(gateway=gateway, batch=batch)}

    return [
        Job("service texts", {"texts_taken": "texts taken in"}, texts),
        Job(
            "service alerts",
            {"ticket_at_risk": "tickets at risk", "ticket_breached": "breached"},
            alerts,
        ),
        Job("service compensation", {"ticket_compensated": "compensated"}, compensation),
        Job("ticket closing", {"tickets_closed": "tickets closed"}, closing),
        Job("return refunds", {"returns_refunded": "returns refunded"}, cash),
    ]


async def raise_ticket_alerts(
    *, now: datetime, policy: TicketPolicy, batch: int = BATCH
) -> list[ServiceAlertKind]:
    """Raise the alerts of the tickets' due deadlines, once per ticket, kind and cycle."""
    kinds = await sweep.raise_due(TicketPromises(), now=now, batch=batch)
    return [ServiceAlertKind(kind) for kind in kinds]


async def compensate_first_replies(
    *, now: datetime, policy: TicketPolicy, batch: int = BATCH
) -> int:
    """Credit each member whose first reply was breached, once; the tickets compensated."""
    return await sweep.compensate_once(TicketCompensations(policy), now=now, batch=batch)


class TicketPromises:
    """The tickets' deadlines and alerts, as the watch of promises reads and writes them."""

    channel = SERVICE_ALERTS

    async def due_owners(self, *, now: datetime, batch: int, busy: set[int]) -> list[int]:
        candidates = TicketDeadline.filter(due_at__lte=now)
        if busy:
            candidates = candidates.exclude(ticket_id__in=sorted(busy))
        return sorted({d.ticket_id for d in await candidates.order_by("due_at").limit(batch)})

    async def lock_owners(self, ids: list[int]) -> dict[int, Ticket]:
        locked = (
            Ticket.select_for_update(skip_locked=True, no_key=True)
            .filter(id__in=ids)
            .order_by("id")
        )
        return {t.id: t for t in await locked}

    async def lock_due(self, owner_ids: list[int], *, now: datetime) -> list[DueDeadline]:
        due = (
            await TicketDeadline.select_for_update(skip_locked=True, no_key=True)
            .filter(ticket_id__in=owner_ids, due_at__lte=now)
            .order_by("due_at", "id")
        )
        return [DueDeadline(d.id, d.ticket_id, str(d.kind), d.cycle) for d in due]

    def owed(self, owner: Ticket, deadline: DueDeadline) -> bool:
        if owner.state is TicketState.CLOSED:
            return False
        kind = ServiceAlertKind(deadline.kind)
        return rules.owed(promise.clock_of(owner), kind, deadline.cycle)

    async def raised(self, owner_ids: list[int]) -> set[NewAlert]:
        rows = await TicketAlert.filter(ticket_id__in=owner_ids).values_list(
            "ticket_id", "kind", "cycle"
        )
        return {NewAlert(ticket_id, str(kind), cycle) for ticket_id, kind, cycle in rows}

    async def record(
        self, new: Sequence[NewAlert], owners: dict[int, Ticket], *, now: datetime
    ) -> list[int]:
        await TicketAlert.bulk_create(
            [
                TicketAlert(
                    ticket_id=a.owner_id,
                    kind=ServiceAlertKind(a.kind),
                    cycle=a.cycle,
                    raised_at=now,
                )
                for a in new
            ]
        )
        created = await TicketAlert.filter(
            ticket_id__in=sorted({a.owner_id for a in new}), raised_at=now
        ).values_list("id", "ticket_id", "kind", "cycle")
        fresh = set(new)
        return [i for i, t, kind, cycle in created if NewAlert(t, str(kind), cycle) in fresh]

    async def tell(
        self, new: Sequence[NewAlert], owners: dict[int, Ticket], *, now: datetime
    ) -> None:
        for alert in new:  # the agents hear of it live; the log keeps it
            log.info("ticket %s: %s", owners[alert.owner_id].number, alert.kind)

    async def drop(self, deadline_ids: list[int]) -> None:
        await TicketDeadline.filter(id__in=deadline_ids).delete()


@dataclass(frozen=True)
class TicketCompensations:
    """A breached first reply owes the member a fixed goodwill credit."""

    policy: TicketPolicy

    async def claim(self, *, batch: int) -> list[TicketAlert]:
        return list(
            await TicketAlert.select_for_update(skip_locked=True, no_key=True)
            .filter(kind=ServiceAlertKind.FIRST_REPLY_BREACHED, compensated_at__isnull=True)
            .order_by("id")
            .limit(batch)
        )

    async def owed(self, alerts: Sequence[TicketAlert]) -> list[Owed]:
        found = {t.id: t for t in await Ticket.filter(id__in=[a.ticket_id for a in alerts])}
        return [self._owed(alert, found[alert.ticket_id]) for alert in alerts]

    def _owed(self, alert: TicketAlert, ticket: Ticket) -> Owed:
        hours = int(self.policy.first_reply.total_seconds() // 3600)
        return Owed(
            alert_id=alert.id,
            member_id=ticket.member_id,
            amount=self.policy.compensation_points,
            external_ref=f"ticket-compensation:{ticket.number}",
            reason=f"Compensation: ticket {ticket.number} had no reply within {hours} hours",
            owner=ticket,
        )

    async def settle(self, owed: Sequence[Owed], paid: dict[int, int], *, now: datetime) -> None:
        await TicketAlert.filter(id__in=[o.alert_id for o in owed]).update(compensated_at=now)
        hours = int(self.policy.first_reply.total_seconds() // 3600)
        told = []
        for item in owed:
            ticket: Ticket = item.owner
            data = {
                "ticket": ticket.number,
                "compensation": paid[item.alert_id],
                "reply_hours": hours,
            }
            told.append(outbox.Notice(ticket.member_id, f"ticket:{ticket.number}:breached", data))
        await outbox.notify_many(Kind.TICKET_BREACHED, told, now=now)


NEW_TEXTS = f"""
SELECT i.id, i.member_id, i.text, i.handled_as, i.received_at FROM sms_inbound i
WHERE i.id > (SELECT COALESCE(MAX(t.inbound_id), 0) FROM aftersales_intake t) - $1
  AND i.handled_as IN ('{InboundHandling.KEPT}', '{InboundHandling.ANSWER}')
  AND i.member_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM aftersales_intake t WHERE t.inbound_id = i.id)
ORDER BY i.id LIMIT $2"""  # noqa: S608 (constants only)
# PostgreSQL: several workers take different texts (SQLite's transaction holds the database).
SKIP_TAKEN = " FOR UPDATE OF i SKIP LOCKED"
INTAKE_ATTEMPTS = 3


async def take_in_texts(*, now: datetime, policy: TicketPolicy, batch: int = BATCH) -> int:
    """Turn the texts the router kept into tickets and ratings, each once; how many."""
    taken, clashes = 0, 0
    while True:
        try:
            count = await _intake_batch(now=now, policy=policy, batch=batch)
        except IntegrityError:
            # Another worker took a text of this batch first (read before its commit): the
            # batch rolled back; read again.
            clashes += 1
            if clashes == INTAKE_ATTEMPTS:
                raise
            continue
        taken += count
        if count < batch:
            return taken


async def _intake_batch(*, now: datetime, policy: TicketPolicy, batch: int) -> int:
    async with in_transaction():
        text = NEW_TEXTS + (SKIP_TAKEN if sql.on_postgres() else "")
        rows = await sql.fetch(text, INTAKE_MARGIN, batch)
        for row in rows:
            outcome = await _take(row, now=now, policy=policy)
            await InboundIntake.create(inbound_id=row["id"], outcome=outcome, taken_at=now)
        return len(rows)


async def _take(row: dict[str, object], *, now: datetime, policy: TicketPolicy) -> str:
    member_id, text = int(str(row["member_id"])), str(row["text"])
    received_at = sql.moment(row["received_at"])  # type: ignore[arg-type]
    matched = row["handled_as"] == InboundHandling.ANSWER
    if matched or rules.is_digit_answer(text):
        if await surveys.answered_by_text(
            member_id=member_id, text=text, matched=matched, now=now, policy=policy
        ):
            return "RATING"
        if matched:
            return "IGNORED"  # the answer to another kind of question
    await tickets.take_text(
        member_id=member_id, text=text, received_at=received_at, now=now, policy=policy
    )
    return "TICKET"


async def close_resolved(*, now: datetime, policy: TicketPolicy, batch: int = BATCH) -> int:
    """Close the tickets resolved a week ago or more; how many."""
    closed = 0
    while True:
        async with in_transaction():
            due = (
                await Ticket.select_for_update(skip_locked=True, no_key=True)
                .filter(state=TicketState.RESOLVED, resolved_at__lte=now - policy.close_after)
                .order_by("resolved_at", "id")
                .limit(batch)
            )
            for ticket in due:
                await tickets.close(ticket, actor=None, now=now)
        closed += len(due)
        if len(due) < batch:
            return closed
