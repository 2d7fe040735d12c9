"""A ticket's clock as its row holds it, and the deadlines the sweeper watches for it.

Every change that moves the clock (a reply, a member's message, a wait, a resolution) goes
through `set_clock`: the ticket's moments and its queue key are written from the new clock,
and its deadline rows are written again from it, so the rows always say what the clock
says (none while the ticket waits on the member). The caller holds the ticket's row lock.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.aftersales import rules
from models.aftersales.models import Ticket, TicketDeadline
from models.aftersales.rules import Clock, TicketPolicy

CLOCK_FIELDS = (
    "first_reply_due_at",
    "first_replied_at",
    "reply_due_at",
    "reply_cycle",
    "resolve_due_at",
    "resolution_cycle",
    "paused_at",
    "next_due_at",
)


def clock_of(ticket: Ticket) -> Clock:
    return Clock(
        first_reply_due=ticket.first_reply_due_at,
        first_replied=ticket.first_replied_at,
        reply_due=ticket.reply_due_at,
        reply_cycle=ticket.reply_cycle,
        resolve_due=ticket.resolve_due_at,
        resolution_cycle=ticket.resolution_cycle,
        paused_at=ticket.paused_at,
    )


def put_clock(ticket: Ticket, clock: Clock) -> None:
    """The clock's moments on the (unsaved) ticket row, with its queue key."""
    ticket.first_reply_due_at = clock.first_reply_due
    ticket.first_replied_at = clock.first_replied
    ticket.reply_due_at = clock.reply_due
    ticket.reply_cycle = clock.reply_cycle
    ticket.resolve_due_at = clock.resolve_due
    ticket.resolution_cycle = clock.resolution_cycle
    ticket.paused_at = clock.paused_at
    ticket.next_due_at = rules.next_due(clock)


async def set_clock(
    ticket: Ticket, clock: Clock, policy: TicketPolicy, *, also: tuple[str, ...] = ()
) -> None:
    """Save the ticket with its new clock (and the fields in `also`), and watch it."""
    changed = clock != clock_of(ticket)
    put_clock(ticket, clock)
    await ticket.save(update_fields=[*CLOCK_FIELDS, *also, "updated_at"])
    if changed:
        await watch(ticket, clock, policy)


async def watch(ticket: Ticket, clock: Clock, policy: TicketPolicy) -> None:
    """The ticket's deadline rows, written again from its clock."""
    async with in_transaction():
        await TicketDeadline.filter(ticket_id=ticket.id).delete()
        wanted = rules.deadlines(clock, policy)
        if wanted:
            await TicketDeadline.bulk_create(
                [
                    TicketDeadline(ticket_id=ticket.id, kind=kind, cycle=cycle, due_at=due)
                    for kind, cycle, due in wanted
                ]
            )
