"""Pure top-up rules: the operator's day a budget counts in, the waits between tries, and
how a credit reads in a message."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.topups.ports import TopUpProduct

# The operator's day, which a gift's daily budget counts in (the programme's own zone).
OPERATOR_ZONE = ZoneInfo("Asia/Shanghai")
# After the n-th try of a line, the next comes this long after it (the last wait repeats);
# a try never waits past the line's promise, whose end is itself a last look.
WAITS = (
    timedelta(seconds=5),
    timedelta(seconds=10),
    timedelta(seconds=20),
    timedelta(seconds=40),
    timedelta(seconds=60),
)
# A line still undelivered this far into its promise is at risk (alerted once).
AT_RISK_SHARE = 0.5


def budget_day(now: datetime) -> date:
    """The operator's day at `now`."""
    return now.astimezone(OPERATOR_ZONE).date()


def next_try(
    *, tried: int, now: datetime, deliver_by: datetime, waits: tuple[timedelta, ...] = WAITS
) -> datetime:
    """When a line tried `tried` times (counting the one starting now) is looked at again."""
    wait = waits[min(tried, len(waits)) - 1]
    return min(now + wait, deliver_by)


def amount(product: TopUpProduct, face_value: int) -> tuple[str, str]:
    """The credit in Chinese and in English: ¥10 of credit, 1 GB of data."""
    if product is TopUpProduct.CREDIT:
        yuan = f"{face_value // 100}" if face_value % 100 == 0 else f"{face_value / 100:.2f}"
        return f"{yuan}元话费", f"¥{yuan} of phone credit"
    size = f"{face_value // 1024}GB" if face_value % 1024 == 0 else f"{face_value}MB"
    return f"{size}流量", f"{size} of data"


def masked(msisdn: str) -> str:
    """A number as a message shows it: +86 138****8000."""
    digits = msisdn.lstrip("+")
    if len(digits) < 8:
        return msisdn
    return f"{msisdn[: len(msisdn) - 8]}****{msisdn[-4:]}"


# What a member is told of a refusal, by the charging system's code.
REFUSALS: dict[str, tuple[str, str]] = {
    "NUMBER_NOT_IN_SERVICE": ("号码已停机或不存在", "the number is not in service"),
    "ACCOUNT_BARRED": ("号码暂时无法充值", "the number cannot be topped up right now"),
    "PRODUCT_NOT_AVAILABLE": ("该充值产品暂不可用", "this top-up is not available right now"),
    "EXPIRED": ("未能按时到账", "it could not be delivered in time"),
}


def refusal(reason: str) -> tuple[str, str]:
    return REFUSALS.get(reason, ("充值未成功", "the top-up did not go through"))
