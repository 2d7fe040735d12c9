"""Pure notification rules: which messages a member can turn off, which may wake them, when a
message may go, how long to wait before trying again, what a text to the service asks.

No I/O and no clock: `now` is always an argument.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.notifications.models import NotificationKind as Kind

# The conversation of an after-sales ticket: the member started it.
TICKET_KINDS = frozenset(kind for kind in Kind if kind.value.startswith("TICKET_"))
# What a member cannot do without: news of their order and their money, the code they
# redeemed, and answers to their own texts and tickets. Every other kind can be turned
# off, one by one or all at once (`TD`).
ESSENTIAL = (
    frozenset(
        {
            Kind.ORDER_CONFIRMED,
            Kind.ORDER_SHIPPED,
            Kind.ORDER_CANCELLED,
            Kind.SMS_REPLY,
            Kind.VOUCHER_READY,
            Kind.TOPUP_DELIVERED,
            Kind.TOPUP_REFUNDED,
        }
    )
    | TICKET_KINDS
)
OPTIONAL = frozenset(Kind) - ESSENTIAL
# What may reach a handset in quiet hours: the parcel is on its way (the courier calls
# next), the code of an e-voucher the member has just redeemed, and an answer to a text or
# a ticket the member has just sent.
URGENT = frozenset(
    {
        Kind.ORDER_SHIPPED,
        Kind.VOUCHER_READY,
        Kind.TOPUP_DELIVERED,
        Kind.TOPUP_REFUNDED,
        Kind.SMS_REPLY,
        Kind.TICKET_RECEIVED,
        Kind.TICKET_REPLY,
    }
)
# Kinds the in-app inbox does not list: a conversation by SMS stays in the SMS app.
NOT_IN_INBOX = frozenset({Kind.SMS_REPLY})


@dataclass(frozen=True)
class QuietHours:
    """Hours (in the programme's zone) when only urgent messages go; start > end wraps midnight."""

    start: time = time(22, 0)
    end: time = time(8, 0)
    timezone: str = "Asia/Shanghai"

    def quiet(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """`at` itself outside quiet hours, else the moment they end."""
        if not self.quiet(at):
            return at
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(at.tzinfo)


def due_at(kind: Kind, *, now: datetime, quiet: QuietHours) -> datetime:
    """When a message of `kind` written at `now` may first go."""
    return now if kind in URGENT else quiet.next_allowed(now)


@dataclass(frozen=True)
class Retries:
    """Exponential backoff with full jitter: try `attempts` times, then the message fails."""

    attempts: int = 8
    first: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=30)

    def delay(self, attempt: int, *, draw: float | None = None) -> timedelta:
        """How long to wait after the `attempt`-th try (1-based) failed; `draw` in [0, 1)."""
        ceiling = min(self.cap, self.first * (1 << max(attempt - 1, 0)))
        share = random.random() if draw is None else draw
        return ceiling * (0.5 + share / 2)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.attempts


class Keyword(StrEnum):
    POINTS = "POINTS"
    ORDER = "ORDER"
    STOP = "STOP"
    HELP = "HELP"
    ANSWER = "ANSWER"
    OTHER = "OTHER"
    EMPTY = "EMPTY"


KEYWORDS = {
    "JF": Keyword.POINTS,
    "积分": Keyword.POINTS,
    "DD": Keyword.ORDER,
    "订单": Keyword.ORDER,
    "TD": Keyword.STOP,
    "退订": Keyword.STOP,
    "HELP": Keyword.HELP,
    "?": Keyword.HELP,
    "帮助": Keyword.HELP,
}
ANSWER = re.compile(r"^[0-9]$")
LONGEST_KEYWORD = 4


@dataclass(frozen=True)
class Parsed:
    keyword: Keyword
    answer: str = ""


def parse(text: str) -> Parsed:
    """What a text to the service asks: a keyword (case, width and spacing aside), a one-digit
    answer, or anything else."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        return Parsed(Keyword.EMPTY)
    if len(cleaned) <= LONGEST_KEYWORD:
        keyword = KEYWORDS.get(cleaned.upper())
        if keyword is not None:
            return Parsed(keyword)
        if ANSWER.match(cleaned):
            return Parsed(Keyword.ANSWER, cleaned)
    return Parsed(Keyword.OTHER)
