"""Top-up lines placed: in the order's transaction, each line's gift's budget for the day is
charged and its top-up written, to be sent by the worker (`models.topups.delivery`).

A gift's budget is one row a day (`top_up_budget`), charged by one conditional upsert: two
orders racing for the last of it both run the same statement, and the row's lock makes the
second see the first's charge, so the day's face value never passes the budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from models import sql
from models.catalog.models import Gift
from models.errors import BudgetSpent
from models.orders.models import Order, OrderLine
from models.topups import rules
from models.topups.models import TopUpStatus

CHARGE = """INSERT INTO top_up_budget (gift_id, day, spent)
SELECT $1::bigint, $2::date, $3::bigint WHERE $3::bigint <= $4::bigint
ON CONFLICT (gift_id, day) DO UPDATE SET spent = top_up_budget.spent + excluded.spent
WHERE top_up_budget.spent + excluded.spent <= $4::bigint
RETURNING spent"""

GIVE_BACK = """UPDATE top_up_budget SET spent = spent - $3
WHERE gift_id = $1 AND day = $2 AND spent >= $3"""

COLUMNS = (
    "INSERT INTO top_up (order_line_id, order_id, member_id, gift_id, msisdn, product,"
    " face_value, status, attempts, created_at, next_try_at, deliver_by, at_risk_at, reason,"
    " transaction_id, budget_day)"
)


async def charge(*, gift: Gift, day: date) -> bool:
    """Take one credit's face value from the gift's budget for `day`; False when it would
    pass the budget (nothing taken). A gift without a budget is never refused."""
    if gift.daily_budget is None:
        return True
    rows = await sql.fetch(CHARGE, gift.id, day, int(gift.face_value), int(gift.daily_budget))
    return bool(rows)


async def give_back(*, gift_id: int, day: date, face_value: int) -> None:
    """A refunded top-up's face value back into its day's budget."""
    await sql.execute(GIVE_BACK, gift_id, day, face_value)


async def take(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    gifts: Mapping[str, Gift],
    msisdn: str,
    now: datetime,
    within: timedelta,
) -> None:
    """Charge the budgets and write a top-up for each of `lines` (TOP_UP lines of `order`,
    one credit each), in the caller's transaction; raises BudgetSpent (the caller rolls the
    order back)."""
    day = rules.budget_day(now)
    rows = []
    for line in lines:
        gift = gifts[line.sku]
        if not await charge(gift=gift, day=day):
            raise BudgetSpent(f"today's budget of {gift.sku} is spent", field="lines")
        rows.append(
            (
                line.id,
                order.id,
                order.member_id,
                gift.id,
                msisdn,
                gift.top_up_product.value,
                int(gift.face_value),
                TopUpStatus.PENDING.value,
                0,
                now,
                now,
                now + within,
                now + within * rules.AT_RISK_SHARE,
                "",
                "",
                day,
            )
        )
    await sql.insert(COLUMNS, rows)
