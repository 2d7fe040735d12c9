"""The points side of redemption orders: spend, hold, capture, release, refund.

Orders call these inside their own transaction (each becomes a savepoint; the debit that
`plan_spend_for_order` plans is written in the order's transaction directly), after locking
the member's account with `lock_account`. A hold reserves points in lots until payment; a
capture makes it a REDEEM; a release or a refund puts points back into their lots, or into
a 30-day grace lot where the lot expired meanwhile. Each is idempotent per order number.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.errors import IdempotencyConflict, InvalidTransition, NotFound
from models.points import debits, ledger, rules
from models.points.models import EntryKind, HoldStatus, LotDraw, PointsEntry, PointsHold


async def _order_entry(order_number: str, kind: EntryKind) -> PointsEntry | None:
    return await PointsEntry.filter(order_number=order_number, kind=kind).order_by("id").first()


async def spend(
    *, member_id: int, amount: int, order_number: str, reason: str, now: datetime
) -> PointsEntry:
    """Debit points for an order (REDEEM); raises InvalidInput, NotFound, InsufficientPoints, IdempotencyConflict."""  # noqa: E501
    rules.check_debit(amount)
    order, reason = rules.clean_order_number(order_number), rules.clean_reason(reason)
    async with in_transaction():
        await ledger.lock_account(member_id=member_id)
        existing = await _order_entry(order, EntryKind.REDEEM)
        if existing is not None:
            if (existing.member_id, existing.delta) != (member_id, -amount):
                raise IdempotencyConflict(
                    f"order {order} already redeemed other points", field="order_number"
                )
            return existing
        debit = await debits.plan_debit(
            member_id=member_id,
            kind=EntryKind.REDEEM,
            amount=amount,
            reason=reason,
            external_ref=None,
            order_number=order,
            now=now,
        )
        return await PointsEntry.get(id=await debits.write_debit(debit))


async def plan_spend_for_order(
    *, member_id: int, amount: int, order_number: str, reason: str, now: datetime
) -> debits.Debit:
    """`spend` for an order being placed, planned: the caller writes the debit in the same
    transaction (`debits.write_debit`, or on PostgreSQL `debits.debit_steps` in the order's
    own statement). That transaction holds the member's account lock and writes the order,
    whose unique number guards against a second REDEEM for it.

    No savepoint, no second lock, no look-up of an earlier entry: the statements of a
    redemption are the hot path of a campaign. Raises InvalidInput, InsufficientPoints.
    """
    rules.check_debit(amount)
    return await debits.plan_debit(
        member_id=member_id,
        kind=EntryKind.REDEEM,
        amount=amount,
        reason=rules.clean_reason(reason),
        external_ref=None,
        order_number=rules.clean_order_number(order_number),
        now=now,
    )


async def hold(*, member_id: int, amount: int, order_number: str, now: datetime) -> PointsHold:
    """Reserve points for an order awaiting payment; raises InvalidInput, NotFound, InsufficientPoints, IdempotencyConflict."""  # noqa: E501
    rules.check_debit(amount)
    order = rules.clean_order_number(order_number)
    conflict = IdempotencyConflict(
        f"order {order} already holds other points", field="order_number"
    )
    try:
        async with in_transaction():
            await ledger.lock_account(member_id=member_id)
            existing = await PointsHold.get_or_none(order_number=order)
            if existing is not None:
                if (existing.member_id, existing.amount) != (member_id, amount):
                    raise conflict
                return existing
            created = await PointsHold.create(
                member_id=member_id, amount=amount, order_number=order, created_at=now
            )
            await ledger.reserve(member_id=member_id, hold_id=created.id, amount=amount, now=now)
            return created
    except IntegrityError as exc:
        # Only another member's hold for the same order can collide: a member's own
        # attempts are serialised by their account lock and meet the check above.
        raise conflict from exc


async def _locked_hold(order_number: str) -> PointsHold:
    """The order's hold, re-read after locking its member's account; raises NotFound."""
    found = await PointsHold.get_or_none(order_number=order_number)
    if found is None:
        raise NotFound(f"order {order_number} holds no points", field="order_number")
    await ledger.lock_account(member_id=found.member_id)
    return await PointsHold.get(id=found.id)


async def capture_hold(*, order_number: str, now: datetime, reason: str = "") -> PointsEntry:
    """Turn an order's open hold into a REDEEM entry; raises NotFound, InvalidTransition."""
    async with in_transaction():
        held = await _locked_hold(order_number)
        if held.status is HoldStatus.CAPTURED:
            captured = await _order_entry(order_number, EntryKind.REDEEM)
            assert captured is not None, "a captured hold has its REDEEM entry"
            return captured
        if held.status is HoldStatus.RELEASED:
            raise InvalidTransition(current=held.status.value, wanted=HoldStatus.CAPTURED.value)
        draws = await ledger.drawn(hold_id=held.id)
        entry = await PointsEntry.create(
            member_id=held.member_id,
            kind=EntryKind.REDEEM,
            delta=-held.amount,
            reason=rules.clean_reason(reason),
            order_number=order_number,
            created_at=now,
        )
        await ledger.consume(draws)
        await LotDraw.filter(hold_id=held.id).update(entry_id=entry.id)
        await ledger.move_account(member_id=held.member_id, balance=-held.amount, held=-held.amount)
        held.status, held.settled_at = HoldStatus.CAPTURED, now
        await held.save(update_fields=["status", "settled_at"])
        return entry


async def release_hold(*, order_number: str, now: datetime) -> None:
    """Give an order's held points back (idempotent); raises NotFound, InvalidTransition."""
    async with in_transaction():
        held = await _locked_hold(order_number)
        if held.status is HoldStatus.RELEASED:
            return
        if held.status is HoldStatus.CAPTURED:
            raise InvalidTransition(current=held.status.value, wanted=HoldStatus.RELEASED.value)
        plan = rules.plan_return(await ledger.drawn(hold_id=held.id), now=now)
        await ledger.unhold(member_id=held.member_id, plan=plan, now=now)
        await ledger.move_account(member_id=held.member_id, held=-held.amount)
        held.status, held.settled_at = HoldStatus.RELEASED, now
        await held.save(update_fields=["status", "settled_at"])


async def refund(*, order_number: str, now: datetime, reason: str) -> PointsEntry | None:
    """Give back what is left of an order's REDEEM, once (None without one); raises
    InvalidInput. Parts refunded before (`refund_part`) are not given back again."""
    reason = rules.clean_reason(reason)
    redeemed = await _order_entry(order_number, EntryKind.REDEEM)
    if redeemed is None:
        return None
    async with in_transaction():
        await ledger.lock_account(member_id=redeemed.member_id)
        refunds = await PointsEntry.filter(order_number=order_number, kind=EntryKind.REFUND)
        whole = [e for e in refunds if e.external_ref is None]
        if whole:
            return whole[0]
        already = sum(int(e.delta) for e in refunds)
        left = -int(redeemed.delta) - already
        if left <= 0:
            return max(refunds, key=lambda e: e.id)
        return await _give_back(redeemed, already, left, now=now, reason=reason, ref=None)


async def refund_part(
    *, order_number: str, amount: int, external_ref: str, now: datetime, reason: str
) -> PointsEntry:
    """Give back `amount` of an order's REDEEM into the lots it came from, once per
    `external_ref` (after-sales refunds an order whole or line by line); raises InvalidInput
    (more than is left to refund), NotFound (no REDEEM), IdempotencyConflict."""
    rules.check_debit(amount)
    reason, ref = rules.clean_reason(reason), rules.clean_external_ref(external_ref)
    redeemed = await _order_entry(order_number, EntryKind.REDEEM)
    if redeemed is None:
        raise NotFound(f"order {order_number} redeemed no points", field="order_number")
    async with in_transaction():
        await ledger.lock_account(member_id=redeemed.member_id)
        earlier = await PointsEntry.get_or_none(external_ref=ref)
        if earlier is not None:
            same = (earlier.kind, earlier.order_number, earlier.delta) == (
                EntryKind.REFUND,
                order_number,
                amount,
            )
            if not same:
                raise IdempotencyConflict(f"{ref} refunded something else", field="external_ref")
            return earlier
        refunds = await PointsEntry.filter(order_number=order_number, kind=EntryKind.REFUND)
        already = sum(int(e.delta) for e in refunds)
        return await _give_back(redeemed, already, amount, now=now, reason=reason, ref=ref)


async def _give_back(
    redeemed: PointsEntry, already: int, amount: int, *, now: datetime, reason: str, ref: str | None
) -> PointsEntry:
    """A REFUND of `amount` more of the REDEEM, under its member's account lock."""
    draws = await ledger.drawn(entry_id=redeemed.id)
    plan = rules.plan_partial_return(draws, already=already, amount=amount, now=now)
    entry = await PointsEntry.create(
        member_id=redeemed.member_id,
        kind=EntryKind.REFUND,
        delta=amount,
        reason=reason,
        external_ref=ref,
        order_number=redeemed.order_number,
        created_at=now,
    )
    await ledger.put_back(member_id=redeemed.member_id, plan=plan, now=now)
    await ledger.move_account(member_id=redeemed.member_id, balance=amount)
    return entry
