"""Ledger writes for the services: the account lock, holds, returns, and the account and lot
writes credits and debits share (credits: `credits.py`; debits: `debits.py`).

`lock_account` takes the member's account lock; every other function here expects the
caller to hold it inside a transaction. Lots are only ever written under that lock, so they
need no lock of their own, and the lock order stays "account, then lots" everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import sql
from models.errors import NotFound
from models.points import rules
from models.points.models import LotDraw, PointsAccount, PointsLot


def lock_text(*, member_id: str, also: str = "") -> str:
    """The account of the member whose id is the SQL expression given, locked: returns its
    id (no row: no account yet). `also`: more columns, computed as the lock is taken."""
    extra = f", {also}" if also else ""
    return (
        f"SELECT a.id{extra} FROM points_account a WHERE a.member_id = {member_id} FOR UPDATE OF a"  # noqa: S608 (an expression of the caller's placeholders)
    )


LOCK_ACCOUNT = lock_text(member_id="$1")


def lock_step(*, member_external_id: str, also: str = "") -> str:
    """`lock_account` as a step of another PostgreSQL statement, for the member whose
    externalId is the SQL expression given (see `lock_text`)."""
    member = f"(SELECT m.id FROM member m WHERE m.external_id = {member_external_id})"  # noqa: S608
    return lock_text(member_id=member, also=also)


async def lock_account(*, member_id: int) -> None:
    """Lock (creating if needed) the member's account in the current transaction; raises NotFound."""  # noqa: E501
    if await sql.fetch(LOCK_ACCOUNT, member_id):
        return
    try:
        async with in_transaction():
            await PointsAccount.create(member_id=member_id)
    except IntegrityError:
        pass  # created concurrently (lock that one), or no such member
    if not await sql.fetch(LOCK_ACCOUNT, member_id):
        raise NotFound(f"no member with id {member_id}", field="member_id")


CHUNK = 1000  # ids per IN (...) list, rows per INSERT: within SQLite's and asyncpg's limits


async def lock_accounts(*, member_ids: Iterable[int], open_missing: bool = False) -> dict[int, int]:
    """Lock several members' accounts in member order in the current transaction (opening
    the missing ones if asked); their balances, by member id.

    A writer that credits many members in one transaction takes their locks this way first:
    with one lock order for all, two such writers queue instead of deadlocking. A caller
    that locked an account already keeps its lock.
    """
    balances: dict[int, int] = {}
    ordered = sorted(set(member_ids))
    for chunk in (ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)):
        # Whole rows: Tortoise drops FOR UPDATE from a `values_list` query.
        locked = PointsAccount.select_for_update().filter(member_id__in=chunk)
        have = await locked.order_by("member_id")
        missing = set(chunk) - {account.member_id for account in have}
        if missing and open_missing:
            await PointsAccount.bulk_create(
                [PointsAccount(member_id=member_id) for member_id in sorted(missing)]
            )
            have = await locked.order_by("member_id")
        balances.update({account.member_id: int(account.balance) for account in have})
    return balances


LIVE_LOTS = """
SELECT id, remaining, held, expires_at FROM points_lot
WHERE member_id = $1 AND expires_at > $2 AND NOT settled AND remaining > 0
"""


async def live_lots(*, member_id: int, now: datetime) -> list[rules.LotState]:
    """The member's lots that still hold points and have not expired at `now`."""
    rows = await sql.fetch(LIVE_LOTS, member_id, now)
    return [
        rules.LotState(r["id"], r["remaining"], r["held"], sql.moment(r["expires_at"]))
        for r in rows
    ]


def move_text(p: sql.Params, *, member_id: int, balance: int = 0, held: int = 0) -> str:
    """The account's balance and held points moved by the amounts given."""
    return f"""UPDATE points_account SET balance = balance + {p(balance)}, held = held + {p(held)},
        updated_at = {p(datetime.now(UTC))}
    WHERE member_id = {p(member_id)}"""  # noqa: S608 (placeholders, never values)


async def move_account(*, member_id: int, balance: int = 0, held: int = 0) -> None:
    p = sql.Params()
    await sql.execute(move_text(p, member_id=member_id, balance=balance, held=held), *p.values)


INSERT_LOTS = (
    "INSERT INTO points_lot (member_id, amount, remaining, held, expires_at, settled, created_at)"
)


async def add_lots(lots: Sequence[tuple[int, int, datetime]], *, now: datetime) -> None:
    """New lots, each (member id, amount, expires at), in the order given."""
    for start in range(0, len(lots), CHUNK):
        await sql.insert(
            INSERT_LOTS,
            [
                (member, amount, amount, 0, expires, False, now)
                for member, amount, expires in lots[start : start + CHUNK]
            ],
        )


async def add_lot(*, member_id: int, amount: int, expires_at: datetime, now: datetime) -> None:
    await add_lots([(member_id, amount, expires_at)], now=now)


async def reserve(*, member_id: int, hold_id: int, amount: int, now: datetime) -> None:
    """Hold `amount` of the member's live points for hold `hold_id`; raises InsufficientPoints."""
    plan = rules.plan_draws(await live_lots(member_id=member_id, now=now), amount, now=now)
    for take in plan:
        await PointsLot.filter(id=take.lot_id).update(held=F("held") + take.amount)
    await LotDraw.bulk_create(
        [LotDraw(lot_id=take.lot_id, hold_id=hold_id, amount=take.amount) for take in plan]
    )
    await move_account(member_id=member_id, held=amount)


async def drawn(*, entry_id: int | None = None, hold_id: int | None = None) -> list[rules.Returned]:
    """What one debit entry or one hold took, lot by lot."""
    query = (
        LotDraw.filter(entry_id=entry_id)
        if entry_id is not None
        else LotDraw.filter(hold_id=hold_id)
    )
    rows = await query.values_list(
        "amount", "lot_id", "lot__remaining", "lot__held", "lot__expires_at", "lot__settled"
    )
    return [
        rules.Returned(rules.LotState(lot_id, remaining, held, expires_at, settled), amount)
        for amount, lot_id, remaining, held, expires_at, settled in rows
    ]


async def put_back(*, member_id: int, plan: rules.ReturnPlan, now: datetime) -> None:
    """Spent points return: into their live lots, or from expired lots into a grace lot."""
    for take in plan.to_lots:
        await PointsLot.filter(id=take.lot_id).update(remaining=F("remaining") + take.amount)
    if plan.grace_amount:
        await add_lot(
            member_id=member_id,
            amount=plan.grace_amount,
            expires_at=plan.grace_expires_at,
            now=now,
        )


async def unhold(*, member_id: int, plan: rules.ReturnPlan, now: datetime) -> None:
    """Held points are freed: they stay in live lots, and leave expired lots for a grace lot."""
    for take in plan.to_lots:
        await PointsLot.filter(id=take.lot_id).update(held=F("held") - take.amount)
    for take in plan.from_expired:
        await PointsLot.filter(id=take.lot_id).update(
            held=F("held") - take.amount, remaining=F("remaining") - take.amount
        )
    if plan.grace_amount:
        await add_lot(
            member_id=member_id,
            amount=plan.grace_amount,
            expires_at=plan.grace_expires_at,
            now=now,
        )


async def consume(draws: Sequence[rules.Returned]) -> None:
    """A captured hold's points leave their lots for good."""
    for item in draws:
        await PointsLot.filter(id=item.lot.id).update(
            held=F("held") - item.amount, remaining=F("remaining") - item.amount
        )
