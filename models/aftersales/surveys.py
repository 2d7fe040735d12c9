"""Satisfaction: a survey after each resolution of a ticket and after each delivered order.

A survey is a `QUESTION` in the outbox (its words say the scale, 5 = very satisfied), so a
digit the member texts back is matched by the SMS router's rule for the latest open
question, and after-sales takes the answer in (`scheduled.take_in_texts`); in the app,
`rate` does the same. A survey holds one rating: a later answer within the window replaces
it. A digit outside 1-5 rates nothing: the member is asked again. A low rating (1 or 2) of
a ticket's service asks a supervisor to look (the ticket's `attention`, and an alert).
"""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import validation
from models.actors import Actor, Role
from models.aftersales import rules, timeline
from models.aftersales.models import ServiceAlertKind, Survey, Ticket, TicketAlert, TimelineKind
from models.aftersales.rules import TicketPolicy
from models.errors import InvalidInput, NotFound
from models.events import SERVICE_ALERTS, TICKETS, announce
from models.members.models import Member
from models.notifications import outbox
from models.notifications.models import Notification
from models.notifications.models import NotificationKind as Kind
from models.orders.models import Order

QUESTION_KEY = "survey:"


async def ask_about_ticket(ticket: Ticket, *, now: datetime) -> Survey:
    """Ask how the service on this resolution of the ticket was (once per resolution)."""
    key = f"ticket:{ticket.number}:{ticket.resolution_cycle}"
    return await _ask(key, ticket.member_id, ticket=ticket, order_id=ticket.order_id, now=now)


async def ask_about_order(order: Order, *, now: datetime) -> Survey:
    """Ask how a delivered order went (once per order), in the delivery's transaction."""
    return await _ask(
        f"order:{order.number}", order.member_id, order_id=order.id, now=now, number=order.number
    )


async def _ask(
    key: str,
    member_id: int,
    *,
    now: datetime,
    ticket: Ticket | None = None,
    order_id: int | None = None,
    number: str = "",
) -> Survey:
    existing = await Survey.get_or_none(key=key)
    if existing is not None:
        return existing
    try:
        async with in_transaction():
            survey = await Survey.create(
                key=key,
                member_id=member_id,
                ticket_id=ticket.id if ticket else None,
                order_id=order_id,
                asked_at=now,
            )
    except IntegrityError:
        return await Survey.get(key=key)
    await question(survey, ticket=ticket, number=number, now=now)
    return survey


async def question(
    survey: Survey,
    *,
    now: datetime,
    ticket: Ticket | None = None,
    number: str = "",
    again: str = "",
) -> None:
    """The survey's question in the outbox (`again`: a repeat of it, after an answer that
    rated nothing)."""
    data = {"survey": survey.id, **({"ticket": ticket.number} if ticket else {"number": number})}
    await outbox.notify(
        kind=Kind.QUESTION,
        member_id=survey.member_id,
        dedupe_key=f"{QUESTION_KEY}{survey.id}{again}",
        data=data,
        now=now,
        order_id=survey.order_id,
    )


async def rate(
    *,
    actor: Actor,
    ticket_number: str | None,
    order_number: str | None,
    rating: int,
    now: datetime,
    policy: TicketPolicy,
) -> Survey:
    """The signed-in member's rating of a ticket's service or a delivered order; raises
    InvalidInput (the rating, the window), NotFound."""
    rating = rules.check_rating(rating)
    if (ticket_number is None) == (order_number is None):
        raise InvalidInput("give a ticketNumber or an orderNumber", field="ticket_number")
    member = (
        await Member.get_or_none(external_id=actor.subject) if actor.role is Role.MEMBER else None
    )
    survey = await _survey_of(member, ticket_number, order_number)
    if survey is None:
        field = "ticket_number" if ticket_number is not None else "order_number"
        raise NotFound("no survey to answer for that", field=field)
    if now > survey.asked_at + policy.survey_window:
        raise InvalidInput("the survey is closed: answers are taken for 7 days", field="rating")
    return await record(survey, rating, by="APP", now=now)


async def _survey_of(
    member: Member | None, ticket_number: str | None, order_number: str | None
) -> Survey | None:
    if member is None:
        return None
    query = Survey.filter(member_id=member.id)
    if ticket_number is not None:
        number = ticket_number.strip().upper()
        if not validation.fits(Ticket, "number", number):
            return None
        query = query.filter(ticket__number=number)
    else:
        number = (order_number or "").strip().upper()
        if not validation.fits(Order, "number", number):
            return None
        query = query.filter(order__number=number, ticket_id__isnull=True)
    return await query.order_by("-id").first()


async def record(survey: Survey, rating: int, *, by: str, now: datetime) -> Survey:
    """Record (or replace) a survey's rating, in one transaction; a low rating of a ticket's
    service raises its alert for a supervisor."""
    async with in_transaction():
        locked = await Survey.select_for_update(no_key=True).get(id=survey.id)
        locked.rating, locked.rated_at, locked.rated_by = rating, now, by
        await locked.save(update_fields=["rating", "rated_at", "rated_by"])
        if locked.ticket_id is not None:
            await _rated_ticket(locked, rating, now=now)
        return locked


async def _rated_ticket(survey: Survey, rating: int, *, now: datetime) -> None:
    assert survey.ticket_id is not None
    ticket = await Ticket.select_for_update(no_key=True).get(id=survey.ticket_id)
    await timeline.add(
        ticket_id=ticket.id,
        kind=TimelineKind.RATING,
        actor=None,
        now=now,
        data={"rating": rating, "survey": survey.id, "by": survey.rated_by},
    )
    if rating in rules.LOW_RATINGS:
        ticket.attention = True
        await ticket.save(update_fields=["attention", "updated_at"])
        alert, created = await TicketAlert.get_or_create(
            ticket_id=ticket.id,
            kind=ServiceAlertKind.LOW_RATING,
            cycle=survey.id,
            defaults={"raised_at": now},
        )
        if created:
            await announce(SERVICE_ALERTS, str(alert.id))
    else:
        await ticket.save(update_fields=["updated_at"])
    await announce(TICKETS, ticket.number)


async def answered_by_text(
    *, member_id: int, text: str, matched: bool, now: datetime, policy: TicketPolicy
) -> bool:
    """A digit the member texted: the answer to the survey question the router matched it
    to (`matched`), or else a later answer to their latest survey within the window;
    whether a survey took it. A digit that is no rating asks the question again."""
    survey = await _texted_survey(member_id, matched=matched, now=now, policy=policy)
    if survey is None:
        return False
    rating = rules.rating_of(text)
    if rating is None:
        ticket = await Ticket.get_or_none(id=survey.ticket_id) if survey.ticket_id else None
        again = f":again:{int(now.timestamp())}"
        await question(
            survey, now=now, ticket=ticket, number=await _order_number(survey), again=again
        )
        return True
    await record(survey, rating, by="SMS", now=now)
    return True


async def _texted_survey(
    member_id: int, *, matched: bool, now: datetime, policy: TicketPolicy
) -> Survey | None:
    since = now - policy.survey_window
    if matched:
        question_row = (
            await Notification.filter(
                member_id=member_id,
                kind=Kind.QUESTION,
                answered_at__isnull=False,
                dedupe_key__startswith=QUESTION_KEY,
            )
            .order_by("-answered_at", "-id")
            .first()
        )
        survey_id = _survey_id(question_row.dedupe_key) if question_row else None
        return await Survey.get_or_none(id=survey_id, member_id=member_id) if survey_id else None
    return await Survey.filter(member_id=member_id, asked_at__gt=since).order_by("-id").first()


def _survey_id(dedupe_key: str) -> int | None:
    head = dedupe_key[len(QUESTION_KEY) :].split(":", 1)[0]
    return int(head) if head.isascii() and head.isdigit() else None


async def _order_number(survey: Survey) -> str:
    if survey.order_id is None:
        return ""
    order = await Order.filter(id=survey.order_id).only("id", "number").first()
    return order.number if order else ""
