"""Pure after-sales rules: what counts as a reply, the ticket's clock, its state machine, and
the checks of what members and agents send. No I/O; `now` is always an argument.

The promise (`TicketPolicy`): a first reply from a person within 48 hours of opening, an
answer to each later message of the member within 24 hours, resolution within 7 days. A
ticket's clock (`Clock`) holds when each promise still running falls due. While the ticket
waits on the member the clock stops: nothing falls due, and when the member answers every
running promise moves on by the time waited. A ticket reopened by the member's message in
the week after its resolution owes an answer and a resolution again (a new cycle of each).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from models import validation
from models.aftersales.models import ServiceAlertKind, TicketState, TimelineKind
from models.errors import InvalidInput, InvalidTransition, TicketClosed
from models.promises import rules as promises

MAX_TEXT = 2000
MAX_PHOTOS = 5
MAX_URL = 500
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RATINGS = range(1, 6)
LOW_RATINGS = frozenset({1, 2})
# Where a ticket that runs no clock (waiting on the member, resolved) sorts in the queue:
# after every ticket with a deadline.
NO_DEADLINE = datetime(2999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class TicketPolicy:
    """The promise and its settings (api/settings.py reads them from the environment)."""

    first_reply: timedelta = timedelta(hours=48)
    follow_up: timedelta = timedelta(hours=24)
    resolve: timedelta = timedelta(days=7)
    at_risk: timedelta = timedelta(hours=8)
    close_after: timedelta = timedelta(days=7)
    compensation_points: int = 100
    goodwill_daily_cap: int = 500  # an agent's, unless an admin set another
    survey_window: timedelta = timedelta(days=7)
    timezone: str = "Asia/Shanghai"


# --- what counts as a reply ---------------------------------------------------------------

PEOPLE = frozenset({"agent", "admin"})


def counts_as_reply(kind: TimelineKind, *, author_role: str, call_outcome: str = "") -> bool:
    """Whether a timeline entry answers the member: a public message to them (app or SMS)
    or a logged call with its outcome, from a person. Internal notes, automatic
    acknowledgements, the member's own messages, state changes and resolutions never do."""
    if author_role not in PEOPLE:
        return False
    if kind is TimelineKind.PUBLIC_REPLY:
        return True
    return kind is TimelineKind.CALL and bool(call_outcome.strip())


# --- the clock -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """When each promise still running on a ticket falls due (None: not running)."""

    first_reply_due: datetime
    first_replied: datetime | None = None
    reply_due: datetime | None = None
    reply_cycle: int = 0
    resolve_due: datetime | None = None
    resolution_cycle: int = 0
    paused_at: datetime | None = None


def opened(at: datetime, policy: TicketPolicy) -> Clock:
    """A new ticket owes a first reply and a resolution."""
    return Clock(first_reply_due=at + policy.first_reply, resolve_due=at + policy.resolve)


def replied(clock: Clock, at: datetime) -> Clock:
    """A reply (see `counts_as_reply`) keeps the first-reply promise and answers the
    member's latest message."""
    return replace(clock, first_replied=clock.first_replied or at, reply_due=None)


def member_wrote(clock: Clock, at: datetime, policy: TicketPolicy) -> Clock:
    """A later message from the member is owed an answer, unless one is owed already (the
    first reply counts as the answer to everything before it)."""
    clock = resumed(clock, at)
    if clock.first_replied is None or clock.reply_due is not None:
        return clock
    return replace(clock, reply_due=at + policy.follow_up, reply_cycle=clock.reply_cycle + 1)


def paused(clock: Clock, at: datetime) -> Clock:
    """Waiting on the member: the clock stops (a second pause keeps the first moment)."""
    return clock if clock.paused_at is not None else replace(clock, paused_at=at)


def resumed(clock: Clock, at: datetime) -> Clock:
    """The member answered: every running promise moves on by the time waited."""
    if clock.paused_at is None:
        return clock
    waited = max(at - clock.paused_at, timedelta(0))
    # A first reply already given keeps the deadline it was judged by.
    first_due = clock.first_reply_due + (waited if clock.first_replied is None else timedelta(0))
    return Clock(
        first_reply_due=first_due,
        first_replied=clock.first_replied,
        reply_due=clock.reply_due + waited if clock.reply_due is not None else None,
        reply_cycle=clock.reply_cycle,
        resolve_due=clock.resolve_due + waited if clock.resolve_due is not None else None,
        resolution_cycle=clock.resolution_cycle,
        paused_at=None,
    )


def resolved(clock: Clock) -> Clock:
    """Resolution keeps the resolution promise and ends the wait for an answer; a first
    reply still owed stays owed (a person must have answered)."""
    return replace(clock, reply_due=None, resolve_due=None, paused_at=None)


def reopened(clock: Clock, at: datetime, policy: TicketPolicy) -> Clock:
    """The member wrote within the week after resolution: an answer and a resolution are
    owed again, each a new cycle."""
    return replace(
        clock,
        reply_due=at + policy.follow_up if clock.first_replied is not None else None,
        reply_cycle=clock.reply_cycle + (1 if clock.first_replied is not None else 0),
        resolve_due=at + policy.resolve,
        resolution_cycle=clock.resolution_cycle + 1,
        paused_at=None,
    )


@dataclass(frozen=True)
class Promise:
    """A promise still running on a ticket: its alert kinds, cycle and deadline."""

    at_risk: ServiceAlertKind
    breached: ServiceAlertKind
    cycle: int
    due: datetime


def running(clock: Clock) -> list[Promise]:
    """The promises whose clock runs now (none while waiting on the member)."""
    if clock.paused_at is not None:
        return []
    found = []
    if clock.first_replied is None:
        found.append(
            Promise(
                ServiceAlertKind.FIRST_REPLY_AT_RISK,
                ServiceAlertKind.FIRST_REPLY_BREACHED,
                0,
                clock.first_reply_due,
            )
        )
    if clock.reply_due is not None:
        found.append(
            Promise(
                ServiceAlertKind.REPLY_AT_RISK,
                ServiceAlertKind.REPLY_BREACHED,
                clock.reply_cycle,
                clock.reply_due,
            )
        )
    if clock.resolve_due is not None:
        found.append(
            Promise(
                ServiceAlertKind.RESOLUTION_AT_RISK,
                ServiceAlertKind.RESOLUTION_BREACHED,
                clock.resolution_cycle,
                clock.resolve_due,
            )
        )
    return found


def deadlines(clock: Clock, policy: TicketPolicy) -> list[tuple[ServiceAlertKind, int, datetime]]:
    """The moments the sweeper watches: each running promise at risk, and breached."""
    watched = []
    for promise in running(clock):
        at_risk, due = promises.watched(promise.due, at_risk=policy.at_risk)
        watched += [
            (promise.at_risk, promise.cycle, at_risk),
            (promise.breached, promise.cycle, due),
        ]
    return watched


def next_due(clock: Clock) -> datetime:
    """The earliest deadline still running: where the ticket stands in the queue."""
    return min((p.due for p in running(clock)), default=NO_DEADLINE)


def owed(clock: Clock, kind: ServiceAlertKind, cycle: int) -> bool:
    """Whether the promise an alert of `kind` and `cycle` is about still runs."""
    return any(kind in (p.at_risk, p.breached) and p.cycle == cycle for p in running(clock))


def urgency(clock: Clock, *, now: datetime, threshold: timedelta) -> promises.Urgency | None:
    """How close the ticket's earliest running promise is to its deadline (None: none runs)."""
    due = next_due(clock)
    if due == NO_DEADLINE:
        return None
    return promises.urgency(due, now=now, kept=False, threshold=threshold)


# --- states ---------------------------------------------------------------------------------

OPEN_STATES = frozenset({TicketState.NEW, TicketState.OPEN, TicketState.WAITING_ON_MEMBER})
MOVES: Mapping[TicketState, frozenset[TicketState]] = {
    TicketState.NEW: frozenset(
        {TicketState.OPEN, TicketState.WAITING_ON_MEMBER, TicketState.RESOLVED}
    ),
    TicketState.OPEN: frozenset({TicketState.WAITING_ON_MEMBER, TicketState.RESOLVED}),
    TicketState.WAITING_ON_MEMBER: frozenset({TicketState.OPEN, TicketState.RESOLVED}),
    TicketState.RESOLVED: frozenset({TicketState.OPEN, TicketState.CLOSED}),
    TicketState.CLOSED: frozenset(),
}


def check_move(current: TicketState, wanted: TicketState, *, number: str) -> None:
    """Raise TicketClosed for a closed ticket, InvalidTransition for any other move that is
    not one of the state machine's."""
    if current is TicketState.CLOSED:
        raise TicketClosed(f"ticket {number} is closed", field="number")
    if wanted not in MOVES[current]:
        raise InvalidTransition(current=current.value, wanted=wanted.value)


def reopens(
    state: TicketState, resolved_at: datetime | None, *, now: datetime, policy: TicketPolicy
) -> bool:
    """Whether a member's message reopens a resolved ticket (within the week after)."""
    return (
        state is TicketState.RESOLVED
        and resolved_at is not None
        and now < resolved_at + policy.close_after
    )


# --- what members and agents send -----------------------------------------------------------


def new_ticket_number(now: datetime) -> str:
    """A human-friendly number: T, the date, and five unambiguous random characters."""
    suffix = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(5))
    return f"T{now:%y%m%d}{suffix}"


def clean_text(value: str, *, field: str = "text", max_length: int = MAX_TEXT) -> str:
    """A message as people type it: line breaks kept (CRLF as LF), trimmed, bounded, free of
    other control characters; raises InvalidInput."""
    normalised = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return validation.text(normalised, field=field, max_length=max_length)


def clean_photos(urls: Sequence[str] | None, *, field: str = "photo_urls") -> list[str]:
    """At most five http(s) addresses of photos; raises InvalidInput."""
    if not urls:
        return []
    if len(urls) > MAX_PHOTOS:
        raise InvalidInput(f"at most {MAX_PHOTOS} photos", field=field)
    cleaned = []
    for index, url in enumerate(urls):
        text = validation.text(url, field=f"{field}.{index}", max_length=MAX_URL)
        if not URL.match(text):
            raise InvalidInput("a photo must be an http(s) address", field=f"{field}.{index}")
        cleaned.append(text)
    return cleaned


def subject_of(text: str) -> str:
    """The ticket's subject: the first line of the member's first message, cut to 200."""
    first = text.strip().split("\n", 1)[0].strip()
    return first[:197] + "..." if len(first) > 200 else first


def check_rating(value: int, *, field: str = "rating") -> int:
    """A rating of 1 to 5 (5 = very satisfied); raises InvalidInput."""
    if value not in RATINGS:
        raise InvalidInput("rating must be 1, 2, 3, 4 or 5 (5 = very satisfied)", field=field)
    return value


def rating_of(text: str) -> int | None:
    """The rating a text to the service number gives: one digit 1-5, width aside."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    return int(cleaned) if len(cleaned) == 1 and cleaned in "12345" else None


def is_digit_answer(text: str) -> bool:
    """Whether a text is one digit (any digit: the router's answers to questions)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    return len(cleaned) == 1 and cleaned.isascii() and cleaned.isdigit()


def check_points(value: int, *, field: str = "points", high: int = 1_000_000) -> int:
    return validation.bounded_int(value, field=field, low=1, high=high)


def needs_approval(*, credited_today: int, amount: int, cap: int) -> bool:
    """Whether a goodwill credit takes the agent past their daily cap (a supervisor then
    approves it)."""
    return credited_today + amount > cap
