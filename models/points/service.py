"""Points services: every change of a member's points, each in one transaction.

The one entry point for other packages: awards and adjustments live here, the services
orders call (`spend`, `hold`, `capture_hold`, `release_hold`, `refund`) in `redemptions`,
the expiry pass in `expiry`, the account lock in `ledger`, debits in `debits`; all are
exported from here.

Each service runs in `in_transaction()`, which becomes a savepoint inside a caller's
transaction (how orders spend or hold points within the redemption). Every writer locks
the member's account row first (`lock_account`) and only then reads and writes lots; no
service locks anything else before the account.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.errors import IdempotencyConflict, NotFound
from models.members.service import ensure_member, find_member
from models.notifications import outbox
from models.notifications.models import NotificationKind
from models.paging import Page, SortKey, paginate
from models.points import credits, debits, ledger, rules
from models.points.debits import Debit, debit_steps, write_debit
from models.points.expiry import expire_due
from models.points.ledger import lock_account, lock_accounts, lock_step
from models.points.models import EntryKind, PointsEntry
from models.points.redemptions import (
    capture_hold,
    hold,
    plan_spend_for_order,
    refund,
    refund_part,
    release_hold,
    spend,
)

__all__ = [
    "Credit",
    "Debit",
    "adjust",
    "award",
    "capture_hold",
    "debit_steps",
    "expire_due",
    "history",
    "hold",
    "lock_account",
    "lock_accounts",
    "lock_step",
    "plan_spend_for_order",
    "refund",
    "refund_part",
    "release_hold",
    "spend",
    "write_debit",
]

HISTORY_ORDER = (SortKey("id", descending=True),)
CREDIT_KINDS = frozenset({EntryKind.EARN, EntryKind.ADJUST, EntryKind.COMPENSATION})


@dataclass(frozen=True)
class Credit:
    """The entry of an award or adjustment; `created` is False when it was a replay."""

    entry: PointsEntry
    created: bool


async def _replay(ref: str, *, external_id: str, delta: int, kind: EntryKind) -> Credit | None:
    """The earlier entry of `ref` if it matches; raises IdempotencyConflict if it does not."""
    entry = await PointsEntry.filter(external_ref=ref).select_related("member").first()
    if entry is None:
        return None
    earlier = rules.RefUse(entry.member.external_id, entry.delta, entry.kind)
    if rules.reuse_of(earlier, rules.RefUse(external_id, delta, kind)) is rules.RefReuse.CONFLICT:
        raise IdempotencyConflict(
            f"externalRef {ref} was already used for another member, amount or kind",
            field="external_ref",
        )
    return Credit(entry, created=False)


async def _book_once(
    ref: str,
    *,
    member_id: int,
    external_id: str,
    delta: int,
    kind: EntryKind,
    write: Callable[[], Awaitable[PointsEntry]],
) -> Credit:
    """Write an entry for `ref` once: the unique ref settles concurrent attempts."""
    try:
        async with in_transaction():
            await ledger.lock_account(member_id=member_id)
            replayed = await _replay(ref, external_id=external_id, delta=delta, kind=kind)
            return replayed or Credit(await write(), created=True)
    except IntegrityError:
        replayed = await _replay(ref, external_id=external_id, delta=delta, kind=kind)
        if replayed is None:
            raise
        return replayed


async def award(
    *,
    member_external_id: str,
    amount: int,
    reason: str,
    external_ref: str,
    now: datetime,
    expires_at: datetime | None = None,
    kind: EntryKind = EntryKind.EARN,
    order_number: str | None = None,
    timezone: str = rules.DEFAULT_TIMEZONE,
    tell_from: int | None = None,
) -> Credit:
    """Credit a new lot once per external_ref, telling the member of an EARN of `tell_from`
    points or more; raises InvalidInput, IdempotencyConflict."""
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind} is not a credit")
    external_id = rules.clean_member_external_id(member_external_id)
    rules.check_award(amount)
    reason, ref = rules.clean_reason(reason), rules.clean_external_ref(external_ref)
    order = rules.clean_order_number(order_number) if order_number is not None else None
    lot_expiry = rules.credit_expiry(expires_at, now=now, timezone=timezone)
    replayed = await _replay(ref, external_id=external_id, delta=amount, kind=kind)
    if replayed is not None:
        return replayed
    member = await ensure_member(external_id=external_id)
    told = kind is EntryKind.EARN and tell_from is not None and amount >= tell_from

    async def write() -> PointsEntry:
        entry = await credits.credit(
            member_id=member.id,
            kind=kind,
            amount=amount,
            reason=reason,
            external_ref=ref,
            order_number=order,
            expires_at=lot_expiry,
            now=now,
        )
        if told:
            await outbox.notify(
                kind=NotificationKind.POINTS_CREDITED,
                member_id=member.id,
                dedupe_key=outbox.credit_key(ref),
                data={"points": amount, "reason": reason},
                now=now,
            )
        return entry

    return await _book_once(
        ref, member_id=member.id, external_id=external_id, delta=amount, kind=kind, write=write
    )


async def adjust(
    *,
    member_external_id: str,
    delta: int,
    reason: str,
    external_ref: str,
    now: datetime,
    timezone: str = rules.DEFAULT_TIMEZONE,
) -> Credit:
    """Correct a balance once per external_ref; raises InvalidInput, NotFound, InsufficientPoints, IdempotencyConflict."""  # noqa: E501
    external_id = rules.clean_member_external_id(member_external_id)
    rules.check_adjustment(delta)
    reason, ref = rules.clean_reason(reason, required=True), rules.clean_external_ref(external_ref)
    replayed = await _replay(ref, external_id=external_id, delta=delta, kind=EntryKind.ADJUST)
    if replayed is not None:
        return replayed
    member = await find_member(external_id=external_id)
    if member is None:
        raise NotFound(f"no member with externalId {external_id}", field="member_external_id")
    member_id = member.id

    async def write() -> PointsEntry:
        if delta > 0:
            return await credits.credit(
                member_id=member_id,
                kind=EntryKind.ADJUST,
                amount=delta,
                reason=reason,
                external_ref=ref,
                order_number=None,
                expires_at=rules.default_expiry(now, timezone=timezone),
                now=now,
            )
        debit = await debits.plan_debit(
            member_id=member_id,
            kind=EntryKind.ADJUST,
            amount=-delta,
            reason=reason,
            external_ref=ref,
            order_number=None,
            now=now,
        )
        return await PointsEntry.get(id=await debits.write_debit(debit))

    return await _book_once(
        ref,
        member_id=member_id,
        external_id=external_id,
        delta=delta,
        kind=EntryKind.ADJUST,
        write=write,
    )


async def history(*, member_id: int, first: int, after: str | None) -> Page[PointsEntry]:
    """The member's entries, newest first; raises InvalidInput for a bad size or cursor."""
    page: Page[PointsEntry] = await paginate(
        PointsEntry.filter(member_id=member_id),
        keys=HISTORY_ORDER,
        first=first,
        after=after,
        key_of=lambda entry: [entry.id],
    )
    return page
