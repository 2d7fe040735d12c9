"""The pure rules of messages: contacts, quiet hours, retries, keywords, templates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from models.errors import InvalidInput
from models.members import rules as members
from models.notifications import rules, templates
from models.notifications.models import NotificationKind as Kind

SHANGHAI_2230 = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
SHANGHAI_0759 = datetime(2026, 12, 6, 23, 59, tzinfo=UTC)  # 07:59 the next morning
SHANGHAI_1200 = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("+44 7700 900123", "+447700900123"),
        ("", ""),
    ],
)
def test_a_mobile_is_stored_in_one_form(written: str, stored: str) -> None:
    assert members.mobile(written) == stored


@pytest.mark.parametrize(
    "written", ["12345", "23800138000", "+86 10 1234 5678", "call me", "+0123"]
)
def test_what_is_not_a_mobile_is_refused(written: str) -> None:
    with pytest.raises(InvalidInput):
        members.mobile(written)


def test_a_member_may_turn_off_optional_kinds_and_all_at_once_but_not_essential_ones() -> None:
    stored = members.opt_outs(["points_expiring", "ORDER_DELIVERED"], allowed=rules.OPTIONAL)
    assert stored == ",ORDER_DELIVERED,POINTS_EXPIRING,"
    assert members.opted_out(stored, "POINTS_EXPIRING")
    assert not members.opted_out(stored, "ORDER_AT_RISK")
    assert members.opted_out(members.opt_outs(["ALL"], allowed=rules.OPTIONAL), "ORDER_AT_RISK")
    with pytest.raises(InvalidInput):
        members.opt_outs(["ORDER_SHIPPED"], allowed=rules.OPTIONAL)


def test_shipping_news_and_answers_may_wake_a_member_nothing_else_may() -> None:
    quiet = rules.QuietHours(start=time(22), end=time(8), timezone="Asia/Shanghai")
    assert quiet.quiet(SHANGHAI_2230)
    assert quiet.quiet(SHANGHAI_0759)
    assert not quiet.quiet(SHANGHAI_1200)
    morning = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert quiet.next_allowed(SHANGHAI_2230) == morning
    assert quiet.next_allowed(SHANGHAI_0759) == morning
    assert rules.due_at(Kind.ORDER_SHIPPED, now=SHANGHAI_2230, quiet=quiet) == SHANGHAI_2230
    assert rules.due_at(Kind.POINTS_EXPIRING, now=SHANGHAI_2230, quiet=quiet) == morning


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap_then_stop() -> None:
    retries = rules.Retries(attempts=4, first=timedelta(seconds=10), cap=timedelta(seconds=60))
    assert retries.delay(1, draw=0.0) == timedelta(seconds=5)
    assert retries.delay(1, draw=0.999) < timedelta(seconds=10)
    assert retries.delay(3, draw=0.0) == timedelta(seconds=20)
    assert retries.delay(9, draw=0.999) <= timedelta(seconds=60)
    assert not retries.exhausted(3)
    assert retries.exhausted(4)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("JF", rules.Keyword.POINTS),
        (" jf ", rules.Keyword.POINTS),
        ("ＪＦ", rules.Keyword.POINTS),
        ("积分", rules.Keyword.POINTS),
        ("dd", rules.Keyword.ORDER),
        ("订单", rules.Keyword.ORDER),
        ("TD", rules.Keyword.STOP),
        ("？", rules.Keyword.HELP),
        ("帮助", rules.Keyword.HELP),
        ("2", rules.Keyword.ANSWER),
        ("", rules.Keyword.EMPTY),
        ("   ", rules.Keyword.EMPTY),
        ("my parcel never came", rules.Keyword.OTHER),
        ("JF please", rules.Keyword.OTHER),
        ("'; DROP TABLE member; --", rules.Keyword.OTHER),
        ("{number}", rules.Keyword.OTHER),
        ("😀" * 500, rules.Keyword.OTHER),
        ("x" * 10_000, rules.Keyword.OTHER),
    ],
)
def test_a_text_to_the_service_is_a_keyword_an_answer_or_something_else(
    text: str, keyword: rules.Keyword
) -> None:
    assert rules.parse(text).keyword is keyword


def test_a_message_is_written_in_the_members_language_with_their_data() -> None:
    data = {"number": "PM261206ABC123", "carrier": "SF", "tracking": "SF123456"}
    zh = templates.render(Kind.ORDER_SHIPPED, data, language="zh-CN")
    en = templates.render(Kind.ORDER_SHIPPED, data, language="en")
    assert zh == "【积分商城】您的订单PM261206ABC123已发货，SF运单号SF123456。"
    assert en.startswith("[PointsMall] Order PM261206ABC123 has shipped: SF tracking")
    assert templates.render(Kind.ORDER_SHIPPED, data, language="fr") == zh


def test_a_value_is_never_read_as_a_template() -> None:
    hostile = {
        "number": "{number.__class__} {0} {tracking}",
        "carrier": "{carrier}",
        "tracking": "x",
    }
    text = templates.render(Kind.ORDER_SHIPPED, hostile, language="en")
    assert "{number.__class__} {0} {tracking}" in text
    assert "{carrier}" in text


def test_a_cancellation_says_what_comes_back_and_a_cash_part_too() -> None:
    paid = {"number": "PM1", "points": 6_900, "cash": "9.90"}
    assert templates.render(Kind.ORDER_CANCELLED, paid, language="zh-CN") == (
        "【积分商城】您的订单PM1已取消，6900积分已退回，现金¥9.90将原路退回。"
    )
    points_only = {"number": "PM1", "points": 6_900, "cash": ""}
    assert templates.render(Kind.ORDER_CANCELLED, points_only, language="en") == (
        "[PointsMall] Order PM1 is cancelled; 6900 points are back in your account."
    )


def test_a_deadline_is_read_in_the_programmes_zone_as_the_message_goes() -> None:
    late_evening = datetime(2026, 12, 8, 15, 30, tzinfo=UTC)  # 23:30 on the 8th in Shanghai
    live = templates.Live(ship_by=late_evening)
    text = templates.message_text(
        Kind.ORDER_AT_RISK, {"number": "PM1"}, language="en", live=live, timezone="Asia/Shanghai"
    )
    assert "by 2026-12-08." in text
    utc = templates.message_text(
        Kind.ORDER_AT_RISK, {"number": "PM1"}, language="en", live=live, timezone="UTC"
    )
    assert "by 2026-12-08." in utc
    early = templates.Live(ship_by=datetime(2026, 12, 8, 17, 0, tzinfo=UTC))  # 01:00 on the 9th
    shanghai = templates.message_text(
        Kind.ORDER_AT_RISK, {"number": "PM1"}, language="en", live=early, timezone="Asia/Shanghai"
    )
    assert "by 2026-12-09." in shanghai
