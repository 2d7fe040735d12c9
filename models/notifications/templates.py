"""The words of every message, in Chinese and English, filled with the member's own data.

A template is fixed text; only values from the notification's own `data` (written by the
change, about the member it is for) fill its fields, and a value is never read as a
template itself, so text a handset sent can never render anyone's data.
"""

# ruff: noqa: E501 (the messages read best unbroken)
from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.members.rules import DEFAULT_LANGUAGE, Language
from models.notifications.models import NotificationKind as Kind

BRAND = {Language.ZH_CN: "【积分商城】", Language.EN: "[PointsMall] "}

TEMPLATES: dict[Kind, dict[Language, str]] = {
    Kind.ORDER_CONFIRMED: {
        Language.ZH_CN: "您的订单{number}已确认，将于{ship_date}前发货。",
        Language.EN: "Order {number} is confirmed and will ship by {ship_date}.",
    },
    Kind.ORDER_SHIPPED: {
        Language.ZH_CN: "您的订单{number}已发货，{carrier}运单号{tracking}。",
        Language.EN: "Order {number} has shipped: {carrier} tracking number {tracking}.",
    },
    Kind.ORDER_DELIVERED: {
        Language.ZH_CN: "您的订单{number}已签收，感谢您的兑换。",
        Language.EN: "Order {number} was delivered. Thank you for redeeming.",
    },
    Kind.ORDER_CANCELLED: {
        Language.ZH_CN: "您的订单{number}已取消，{points}积分已退回{cash_zh}。",
        Language.EN: "Order {number} is cancelled; {points} points are back in your account{cash_en}.",
    },
    Kind.ORDER_AT_RISK: {
        Language.ZH_CN: "抱歉，您的订单{number}可能晚于承诺发货，我们将在{ship_by}前尽力发出。",
        Language.EN: "Sorry: order {number} may ship later than promised; we are working to send it by {ship_by}.",
    },
    Kind.ORDER_BREACHED: {
        Language.ZH_CN: "抱歉，您的订单{number}未能按时发货，已补偿您{compensation}积分。",
        Language.EN: "Sorry: order {number} missed its ship date. We have credited you {compensation} points.",
    },
    Kind.POINTS_EXPIRING: {
        Language.ZH_CN: "您有{points}积分将于{expires_on}到期，请及时兑换。",
        Language.EN: "{points} of your points expire on {expires_on}. Redeem them before then.",
    },
    Kind.POINTS_CREDITED: {
        Language.ZH_CN: "您获得{points}积分（{reason}），当前可用{available}积分。",
        Language.EN: "You earned {points} points ({reason}); {available} points are available now.",
    },
    # A survey: the digit sent back is its answer (the router's question rule).
    Kind.QUESTION: {
        Language.ZH_CN: "您对{subject_zh}的服务满意吗？请回复数字1-5评分（5=非常满意，1=很不满意）。",
        Language.EN: "How satisfied were you with {subject_en}? Reply 1-5 (5 = very satisfied, 1 = very dissatisfied).",
    },
    Kind.TICKET_RECEIVED: {
        Language.ZH_CN: "我们已收到您的问题（工单{ticket}），客服将在{reply_hours}小时内答复您。",
        Language.EN: "We have your message (ticket {ticket}); a person will answer within {reply_hours} hours.",
    },
    Kind.TICKET_REPLY: {
        Language.ZH_CN: "客服回复（工单{ticket}）：{text}",
        Language.EN: "Reply on ticket {ticket}: {text}",
    },
    Kind.TICKET_BREACHED: {
        Language.ZH_CN: "抱歉，工单{ticket}未能在{reply_hours}小时内答复，已补偿您{compensation}积分。",
        Language.EN: "Sorry: ticket {ticket} was not answered within {reply_hours} hours. We have credited you {compensation} points.",
    },
    Kind.TICKET_REFUNDED: {
        Language.ZH_CN: "工单{ticket}：订单{number}的{points}积分已退回您的账户。",
        Language.EN: "Ticket {ticket}: {points} points of order {number} are back in your account.",
    },
    Kind.TICKET_GOODWILL: {
        Language.ZH_CN: "工单{ticket}：为表歉意，已赠送您{points}积分。",
        Language.EN: "Ticket {ticket}: we have credited you {points} points as an apology.",
    },
    Kind.TICKET_REPLACEMENT: {
        Language.ZH_CN: "工单{ticket}：我们将为您补发，补发订单{number}将于{ship_date}前发货。",
        Language.EN: "Ticket {ticket}: we are sending a replacement, order {number}, which ships by {ship_date}.",
    },
    Kind.TICKET_RETURN_EXPECTED: {
        Language.ZH_CN: "工单{ticket}：请将订单{number}的商品交{carrier}寄回，运单号{tracking}，收到后为您退回积分。",
        Language.EN: "Ticket {ticket}: please send order {number} back with {carrier}, tracking number {tracking}; your points come back when it arrives.",
    },
    Kind.TICKET_RETURN_RECEIVED: {
        Language.ZH_CN: "工单{ticket}：已收到您退回的订单{number}，{points}积分已退回{cash_zh}。",
        Language.EN: "Ticket {ticket}: order {number} is back with us; {points} points are back in your account{cash_en}.",
    },
    Kind.TICKET_RESOLVED: {
        Language.ZH_CN: "您的工单{ticket}已处理完毕：{summary}",
        Language.EN: "Ticket {ticket} is resolved: {summary}",
    },
    # The code itself is never in a message (a message's text is kept and sent in clear):
    # the app shows it to its owner, and logs each showing.
    Kind.VOUCHER_READY: {
        Language.ZH_CN: "您兑换的{partner}电子券（订单{number}）已发放，券码请在App“我的订单”中查看，有效期至{expires_on}。",
        Language.EN: "Your {partner} e-voucher (order {number}) is ready: open the order in the app to see its code. Valid until {expires_on}.",
    },
    Kind.TOPUP_DELIVERED: {
        Language.ZH_CN: "您兑换的{amount_zh}已充值到{msisdn}（订单{number}）。",
        Language.EN: "{amount_en} is on {msisdn} (order {number}).",
    },
    Kind.TOPUP_REFUNDED: {
        Language.ZH_CN: "您兑换的{amount_zh}（订单{number}）未能充值：{why_zh}。{points}积分已退回您的账户。",
        Language.EN: "Your {amount_en} (order {number}) could not be topped up: {why_en}. {points} points are back in your account.",
    },
}

# Answers to texts: the router picks one and gives it its values.
REPLIES: dict[str, dict[Language, str]] = {
    "points": {
        Language.ZH_CN: "您的可用积分{available}，余额{balance}。{expiry_zh}",
        Language.EN: "Available points: {available} (balance {balance}). {expiry_en}",
    },
    "points_expiry": {
        Language.ZH_CN: "{points}积分将于{expires_on}到期。",
        Language.EN: "{points} points expire on {expires_on}.",
    },
    "order": {
        Language.ZH_CN: "最近订单{number}：{status}，预计{ship_date}前发货。{tracking_zh}",
        Language.EN: "Latest order {number}: {status}, ships by {ship_date}. {tracking_en}",
    },
    "order_tracking": {
        Language.ZH_CN: "{carrier}运单号{tracking}。",
        Language.EN: "{carrier} tracking number {tracking}.",
    },
    "no_order": {
        Language.ZH_CN: "您还没有订单。",
        Language.EN: "You have no orders yet.",
    },
    "stopped": {
        Language.ZH_CN: "您已退订营销及提醒短信，订单与积分变动通知仍会发送。",
        Language.EN: "You will no longer get optional messages; order and points notices still come.",
    },
    "help": {
        Language.ZH_CN: "回复JF查积分，DD查最近订单，TD退订提醒短信。",
        Language.EN: "Reply JF for your points, DD for your latest order, TD to stop optional messages.",
    },
    "answered": {
        Language.ZH_CN: "感谢您的评价！",
        Language.EN: "Thank you for your answer!",
    },
    "join": {
        Language.ZH_CN: "本号码尚未加入积分计划，请在营业厅或手机营业厅App注册。",
        Language.EN: "This number is not in the points programme yet. Join in the operator's app.",
    },
}


class _Values(string.Formatter):
    """Fills a template's fields from the values given, and nothing else: no attribute or
    index lookups, no nested fields."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        return kwargs.get(field_name, ""), field_name


_FORMATTER = _Values()


def fill(template: str, values: Mapping[str, Any], *, language: Language) -> str:
    """The template with its fields filled (a missing value leaves its field empty)."""
    return BRAND[language] + _FORMATTER.vformat(template, (), dict(values))


def render(kind: Kind, data: Mapping[str, Any], *, language: str) -> str:
    """The message of a notification of `kind` in the member's language."""
    chosen = _language(language)
    return fill(TEMPLATES[kind][chosen], {**data, **_derived(data)}, language=chosen)


def _derived(data: Mapping[str, Any]) -> dict[str, str]:
    """Phrases made of a message's values: the cash part of a refund, and what a survey
    asks about, in each language."""
    cash = str(data.get("cash") or "")
    ticket, order = str(data.get("ticket") or ""), str(data.get("number") or "")
    return {
        "cash_zh": f"，现金¥{cash}将原路退回" if cash else "",
        "cash_en": f", and ¥{cash} goes back to your card" if cash else "",
        "subject_zh": f"工单{ticket}" if ticket else f"订单{order}",
        "subject_en": f"our service on ticket {ticket}" if ticket else f"order {order}",
    }


@dataclass(frozen=True)
class Live:
    """What a message says that is read as it is shown, not when it was written: an order may
    move to another ship day, the points available change."""

    ship_date: date | None = None
    ship_by: datetime | None = None
    available: int | None = None


def message_text(
    kind: Kind, data: Mapping[str, Any], *, language: str, live: Live, timezone: str
) -> str:
    """A notification's words as the member reads them now, by SMS or in the app (dates in
    the programme's zone)."""
    values = dict(data)
    if live.ship_date is not None:
        values["ship_date"] = live.ship_date.isoformat()
    if live.ship_by is not None:
        values["ship_by"] = live.ship_by.astimezone(ZoneInfo(timezone)).date().isoformat()
    if live.available is not None:
        values["available"] = live.available
    return render(kind, values, language=language)


def wanted(kind: Kind) -> frozenset[str]:
    """The values the templates of `kind` name, in any language."""
    return frozenset(
        name
        for template in TEMPLATES.get(kind, {}).values()
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    )


def reply(name: str, values: Mapping[str, Any], *, language: str) -> str:
    chosen = _language(language)
    return fill(REPLIES[name][chosen], values, language=chosen)


def phrase(name: str, values: Mapping[str, Any], *, language: str) -> str:
    """A part of a reply, without the brand."""
    chosen = _language(language)
    return _FORMATTER.vformat(REPLIES[name][chosen], (), dict(values))


def _language(tag: str) -> Language:
    try:
        return Language(tag)
    except ValueError:
        return DEFAULT_LANGUAGE
