"""Live streams for subscriptions: a ticket each time it changes, and the agents' alerts.

Both listen to this process's bus (`models.events.LOCAL`, fed from PostgreSQL's LISTEN on
every replica) from before their first read, so no change between the check and the first
notice is missed. A notice carries only a number or an id: each is answered with rows read
fresh, and a notice that finds nothing new yields nothing. `RESYNC` is answered like a
notice about everything followed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from models.actors import Actor
from models.aftersales.models import Ticket, TicketAlert
from models.aftersales.reads import visible_ticket
from models.errors import NotFound
from models.events import LOCAL, RESYNC, SERVICE_ALERTS, TICKETS, InProcessBus
from models.events.streams import SentIds


@dataclass(frozen=True)
class RaisedServiceAlert:
    alert: TicketAlert
    ticket: Ticket


async def ticket_changes(
    *, number: str, actor: Actor, bus: InProcessBus = LOCAL
) -> AsyncGenerator[Ticket, None]:
    """The ticket each time it changes; raises NotFound (absent or not the actor's)."""
    with bus.listen(TICKETS) as notices:
        ticket = await visible_ticket(number=number, actor=actor)
        if ticket is None:
            raise NotFound(f"no ticket {number!r}", field="number")
        seen = ticket.updated_at
        async for payload in notices:
            if payload not in (ticket.number, RESYNC):
                continue
            ticket = await Ticket.get(id=ticket.id)
            if ticket.updated_at != seen:
                seen = ticket.updated_at
                yield ticket


async def service_alerts(*, bus: InProcessBus = LOCAL) -> AsyncGenerator[RaisedServiceAlert, None]:
    """Each alert raised on any ticket from now on (for agents and supervisors)."""
    with bus.listen(SERVICE_ALERTS) as notices:
        latest = await TicketAlert.all().order_by("-id").first()
        sent = SentIds(latest.id if latest else 0)
        async for payload in notices:
            if payload == RESYNC:
                missed = TicketAlert.filter(id__gt=sent.high).order_by("id")
                raised = [a for a in await missed if a.id not in sent]
            elif payload.isascii() and payload.isdigit() and int(payload) not in sent:
                alert = await TicketAlert.get_or_none(id=int(payload))
                raised = [] if alert is None else [alert]
            else:
                continue
            for alert in raised:
                sent.add(alert.id)
                yield RaisedServiceAlert(alert, await Ticket.get(id=alert.ticket_id))
