"""The service report, computed by the database on both engines: replies on time and late,
percentiles by the reports' one rule, open at risk and breached, money paid, satisfaction."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest

from models.aftersales import goodwill, replies, report, surveys
from models.aftersales.models import Survey, TicketCategory
from models.errors import InvalidInput
from tests.support.aftersales import AGENT, POLICY, opened, pass_at
from tests.support.members import member_with_points

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


def interpolated(values: list[float], p: float) -> float:
    """percentile_cont, as statistics computes it (the 'inclusive' method)."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[round(p * 100) - 1], 2)


async def test_the_report_counts_the_promise_as_kept_and_broken(db: str) -> None:
    await member_with_points("SR1", 1_000)
    reply_hours = [1.0, 10.0, 30.0, 50.0]
    answered = []
    for index, hours in enumerate(reply_hours):
        ticket = await opened("SR1", f"问题 {index}", at=T0)
        await replies.reply(
            actor=AGENT, number=ticket.number, text="答复", now=T0 + hours * H, policy=POLICY
        )
        answered.append(ticket)
    await opened("SR1", "没人理", at=T0)  # never answered
    waiting = await opened("SR1", "等我照片", at=T0)
    await replies.wait_on_member(actor=AGENT, number=waiting.number, now=T0 + H, policy=POLICY)
    elsewhere = await opened("SR1", "别的类", at=T0, category=TicketCategory.QUESTION)
    for ticket, hours in zip(answered[:2], (20.0, 40.0), strict=True):
        await replies.resolve(
            actor=AGENT, number=ticket.number, summary="好了", now=T0 + hours * H, policy=POLICY
        )
    for ticket, value in zip(answered[:2], (5, 2), strict=True):
        await surveys.record(
            await Survey.get(ticket_id=ticket.id), value, by="APP", now=T0 + 41 * H
        )
    await goodwill.credit_goodwill(
        actor=AGENT,
        number=answered[2].number,
        key="g",
        amount=50,
        reason="sorry",
        request_approval=False,
        now=T0 + H,
        policy=POLICY,
    )
    now = T0 + 60 * H
    await pass_at(now)  # the unanswered ones breach and are compensated

    # The window takes in the tickets opened at T0 and the surveys asked on resolution.
    found = await report.service_report(
        start=T0 - H, end=T0 + 2 * 24 * H, category=TicketCategory.DAMAGED, now=now, policy=POLICY
    )

    assert found.tickets_opened == 6
    assert (found.first_replied_on_time, found.first_replied_late, found.unanswered_past_due) == (
        3,
        1,
        1,
    )
    assert found.on_time_rate == 0.6
    assert found.median_hours_to_first_reply == interpolated(reply_hours, 0.5) == 20.0
    assert found.p95_hours_to_first_reply == interpolated(reply_hours, 0.95) == 47.0
    assert (found.tickets_resolved, found.median_hours_to_resolution) == (2, 30.0)
    assert found.p95_hours_to_resolution == interpolated([20.0, 40.0], 0.95)
    # Open now, past a running deadline: only the unanswered one (a wait stops the clock).
    assert found.open_breached == 1
    assert found.compensation_points == 100
    assert found.goodwill_points == 50
    assert (found.surveys_asked, found.surveys_answered, found.response_rate) == (2, 2, 1.0)
    assert found.average_rating == 3.5
    assert found.ratings == (0, 1, 0, 0, 1)
    everything = await report.service_report(
        start=T0 - H, end=T0 + 2 * 24 * H, category=None, now=now, policy=POLICY
    )
    assert everything.tickets_opened == 7
    assert elsewhere.category is TicketCategory.QUESTION


async def test_an_empty_window_reports_nothing_and_a_backwards_one_is_refused(db: str) -> None:
    empty = await report.service_report(start=T0, end=T0 + H, category=None, now=T0, policy=POLICY)
    assert (empty.tickets_opened, empty.on_time_rate, empty.average_rating) == (0, None, None)
    assert empty.response_rate is None
    with pytest.raises(InvalidInput) as refused:
        await report.service_report(start=T0, end=T0, category=None, now=T0, policy=POLICY)
    assert refused.value.field == "from"
