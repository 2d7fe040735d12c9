"""The after-sales rules: what counts as a reply, the ticket's clock, states, inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.aftersales import rules
from models.aftersales.models import ServiceAlertKind as K
from models.aftersales.models import TicketState, TimelineKind
from models.errors import InvalidInput, InvalidTransition, TicketClosed

T0 = datetime(2026, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = rules.TicketPolicy()


@pytest.mark.parametrize(
    ("kind", "role", "outcome", "counts"),
    [
        (TimelineKind.PUBLIC_REPLY, "agent", "", True),
        (TimelineKind.PUBLIC_REPLY, "admin", "", True),
        (TimelineKind.CALL, "agent", "spoke to the member, sending a new one", True),
        (TimelineKind.CALL, "agent", "   ", False),  # a call without its outcome
        (TimelineKind.INTERNAL_NOTE, "agent", "", False),
        (TimelineKind.ACKNOWLEDGEMENT, "system", "", False),
        (TimelineKind.PUBLIC_REPLY, "system", "", False),  # automatic: never a reply
        (TimelineKind.MEMBER_MESSAGE, "member", "", False),
        (TimelineKind.RESOLUTION, "agent", "", False),
        (TimelineKind.STATE_CHANGE, "agent", "", False),
        (TimelineKind.ASSIGNMENT, "admin", "", False),
    ],
)
def test_what_counts_as_a_reply(kind: TimelineKind, role: str, outcome: str, counts: bool) -> None:
    assert rules.counts_as_reply(kind, author_role=role, call_outcome=outcome) is counts


def test_a_new_ticket_watches_its_first_reply_and_its_resolution() -> None:
    clock = rules.opened(T0, POLICY)
    assert rules.deadlines(clock, POLICY) == [
        (K.FIRST_REPLY_AT_RISK, 0, T0 + 40 * H),
        (K.FIRST_REPLY_BREACHED, 0, T0 + 48 * H),
        (K.RESOLUTION_AT_RISK, 0, T0 + 7 * 24 * H - 8 * H),
        (K.RESOLUTION_BREACHED, 0, T0 + 7 * 24 * H),
    ]
    assert rules.next_due(clock) == T0 + 48 * H


def test_a_reply_keeps_the_first_promise_and_a_later_message_starts_a_day_long_one() -> None:
    clock = rules.replied(rules.opened(T0, POLICY), T0 + H)
    assert [k for k, _, _ in rules.deadlines(clock, POLICY)] == [
        K.RESOLUTION_AT_RISK,
        K.RESOLUTION_BREACHED,
    ]
    later = rules.member_wrote(clock, T0 + 3 * H, POLICY)
    assert (later.reply_due, later.reply_cycle) == (T0 + 27 * H, 1)
    # A second message before the answer owes no second answer.
    assert rules.member_wrote(later, T0 + 4 * H, POLICY) == later
    assert rules.replied(later, T0 + 5 * H).reply_due is None


def test_a_message_before_the_first_reply_is_answered_by_it() -> None:
    clock = rules.member_wrote(rules.opened(T0, POLICY), T0 + H, POLICY)
    assert clock.reply_due is None
    assert clock.first_reply_due == T0 + 48 * H


def test_waiting_stops_every_clock_and_the_answer_moves_them_on_by_the_wait() -> None:
    waiting = rules.paused(rules.opened(T0, POLICY), T0 + 10 * H)
    assert rules.deadlines(waiting, POLICY) == []
    assert rules.next_due(waiting) == rules.NO_DEADLINE
    assert rules.paused(waiting, T0 + 20 * H) == waiting, "the first moment of the wait counts"
    back = rules.resumed(waiting, T0 + 34 * H)
    assert back.first_reply_due == T0 + 72 * H
    assert back.resolve_due == T0 + 7 * 24 * H + 24 * H


def test_a_first_reply_already_given_keeps_the_deadline_it_was_judged_by() -> None:
    replied = rules.replied(rules.opened(T0, POLICY), T0 + 50 * H)
    back = rules.resumed(rules.paused(replied, T0 + 51 * H), T0 + 100 * H)
    assert back.first_reply_due == T0 + 48 * H


def test_a_resolution_reopened_owes_an_answer_and_a_resolution_again() -> None:
    done = rules.resolved(rules.replied(rules.opened(T0, POLICY), T0 + H))
    assert rules.deadlines(done, POLICY) == []
    again = rules.reopened(done, T0 + 100 * H, POLICY)
    assert (again.reply_due, again.reply_cycle) == (T0 + 124 * H, 1)
    assert (again.resolve_due, again.resolution_cycle) == (T0 + 100 * H + 7 * 24 * H, 1)
    assert rules.owed(again, K.RESOLUTION_BREACHED, 1)
    assert not rules.owed(again, K.RESOLUTION_BREACHED, 0)


def test_resolving_without_a_reply_still_owes_the_first_reply() -> None:
    done = rules.resolved(rules.opened(T0, POLICY))
    assert rules.owed(done, K.FIRST_REPLY_BREACHED, 0)
    assert not rules.owed(done, K.RESOLUTION_BREACHED, 0)


def test_states_move_only_along_the_machine() -> None:
    rules.check_move(TicketState.NEW, TicketState.WAITING_ON_MEMBER, number="T1")
    rules.check_move(TicketState.RESOLVED, TicketState.OPEN, number="T1")
    with pytest.raises(InvalidTransition):
        rules.check_move(TicketState.OPEN, TicketState.CLOSED, number="T1")
    with pytest.raises(TicketClosed):
        rules.check_move(TicketState.CLOSED, TicketState.OPEN, number="T1")


def test_a_message_reopens_a_resolved_ticket_only_within_the_week() -> None:
    assert rules.reopens(TicketState.RESOLVED, T0, now=T0 + 6 * 24 * H, policy=POLICY)
    assert not rules.reopens(TicketState.RESOLVED, T0, now=T0 + 7 * 24 * H, policy=POLICY)
    assert not rules.reopens(TicketState.CLOSED, T0, now=T0 + H, policy=POLICY)


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001, "bell\x07", "nul\x00", "esc\x1b[31m"])
def test_hostile_texts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        rules.clean_text(text)


def test_line_breaks_are_kept_as_typed() -> None:
    assert rules.clean_text(" 第一行\r\n第二行\r ") == "第一行\n第二行"
    assert rules.subject_of("第一行\n第二行") == "第一行"


@pytest.mark.parametrize(
    "urls",
    [
        ["javascript:alert(1)"],
        ["https://a.example/x"] * 6,
        ["ftp://a.example/x"],
        ["https://" + "a" * 600],
    ],
)
def test_photo_addresses_must_be_a_few_web_addresses(urls: list[str]) -> None:
    with pytest.raises(InvalidInput):
        rules.clean_photos(urls)


@pytest.mark.parametrize("value", [0, 6, -1, 100])
def test_ratings_are_one_to_five(value: int) -> None:
    with pytest.raises(InvalidInput):
        rules.check_rating(value)


def test_a_texted_rating_is_one_digit_from_one_to_five() -> None:
    assert [rules.rating_of(t) for t in ["5", " 1 ", "５", "0", "6", "two", "55", "二"]] == [
        5,
        1,
        5,
        None,
        None,
        None,
        None,
        None,
    ]


def test_goodwill_above_the_daily_cap_needs_a_supervisor() -> None:
    assert not rules.needs_approval(credited_today=400, amount=100, cap=500)
    assert rules.needs_approval(credited_today=401, amount=100, cap=500)
