"""The billing system's accrual file: CSV rows checked one by one with the award rules.

Header `member_external_id,amount,external_ref,reason,expires_at` (`reason` and
`expires_at` may be left out; `expires_at` is ISO 8601 with a zone, empty for the default
rule). Each row becomes an `Accrual` or a `Rejection` that names its line. Pure: no I/O
beyond the lines given, `now` passed in.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from models.errors import DomainError, IdempotencyConflict, InvalidInput
from models.points import rules
from models.points.models import EntryKind

COLUMNS = ("member_external_id", "amount", "external_ref", "reason", "expires_at")
REQUIRED = frozenset(COLUMNS[:3])
INTEGER = re.compile(r"^-?[0-9]{1,12}$")


@dataclass(frozen=True, slots=True)
class Accrual:
    """A valid row: what `award` would be called with, the expiry already resolved."""

    line: int
    member_external_id: str
    amount: int
    external_ref: str
    reason: str
    expires_at: datetime

    def use(self) -> rules.RefUse:
        """What the row's ref is to credit: an EARN of `amount` to its member."""
        return rules.RefUse(self.member_external_id, self.amount, EntryKind.EARN)


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    code: str
    reason: str


@dataclass(frozen=True)
class Layout:
    """Where each column sits in a row; reason and expires_at may be absent."""

    width: int
    member: int
    amount: int
    ref: int
    reason: int | None
    expires_at: int | None


def _layout(row: list[str]) -> Layout:
    names = [name.strip().lower() for name in row]
    missing = sorted(REQUIRED - set(names))
    if missing:
        raise InvalidInput(f"the header lacks {', '.join(missing)}", field="header")
    position = {name: index for index, name in enumerate(names)}
    return Layout(
        width=len(names),
        member=position["member_external_id"],
        amount=position["amount"],
        ref=position["external_ref"],
        reason=position.get("reason"),
        expires_at=position.get("expires_at"),
    )


def _amount(raw: str) -> int:
    cleaned = raw.strip()
    if not INTEGER.match(cleaned):
        raise InvalidInput(f"amount {raw!r} is not an integer", field="amount")
    return rules.check_award(int(cleaned))


def _expiry(raw: str, *, now: datetime, default: datetime) -> datetime:
    cleaned = raw.strip()
    if not cleaned:
        return default
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            f"expires_at {raw!r} is not an ISO 8601 date-time", field="expires_at"
        ) from None
    return rules.credit_expiry(moment, now=now)


def check_row(
    line: int, row: list[str], layout: Layout, *, now: datetime, default: datetime
) -> Accrual:
    """One row as an Accrual, checked by the rules `award` checks; raises InvalidInput naming
    the first bad field."""
    return Accrual(
        line=line,
        member_external_id=rules.clean_member_external_id(row[layout.member]),
        amount=_amount(row[layout.amount]),
        external_ref=rules.clean_external_ref(row[layout.ref]),
        reason="" if layout.reason is None else rules.clean_reason(row[layout.reason]),
        expires_at=default
        if layout.expires_at is None
        else _expiry(row[layout.expires_at], now=now, default=default),
    )


def read_accruals(
    lines: Iterable[str], *, now: datetime, timezone: str = rules.DEFAULT_TIMEZONE
) -> Iterator[Accrual | Rejection]:
    """Every data row of the file, checked; raises InvalidInput when the header is unusable."""
    reader = csv.reader(iter(lines))
    layout = _layout(next(reader, []))
    default = rules.default_expiry(now, timezone=timezone)
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if len(row) != layout.width:
            if len(row) > 1 or (row and row[0].strip()):
                found = f"{len(row)} fields where the header has {layout.width}"
                yield Rejection(start, InvalidInput.code, found)
            continue  # a blank line
        try:
            yield check_row(start, row, layout, now=now, default=default)
        except DomainError as exc:
            yield Rejection(start, exc.code, exc.message)


@dataclass(frozen=True)
class Stored:
    """What storing a batch of distinct refs did: new credits, replays, conflicting refs,
    and refs left out because they would take their member's balance past the ceiling."""

    imported: int
    replayed: int
    conflicting: frozenset[str]
    over_ceiling: frozenset[str] = frozenset()


def over_ceiling(line: int) -> Rejection:
    refusal = rules.ceiling_refusal()
    return Rejection(line, refusal.code, refusal.message)


@dataclass
class Deduplicated:
    """A batch split by ref: first occurrences, exact repeats, and repeats that differ."""

    fresh: list[Accrual]
    repeats: list[Accrual]
    conflicts: list[Rejection]


def deduplicate(accruals: Iterable[Accrual]) -> Deduplicated:
    """A ref seen earlier in the batch: the same credit again repeats it, others conflict."""
    first: dict[str, Accrual] = {}
    repeats: list[Accrual] = []
    conflicts: list[Rejection] = []
    for accrual in accruals:
        earlier = first.get(accrual.external_ref)
        if earlier is None:
            first[accrual.external_ref] = accrual
        elif rules.reuse_of(earlier.use(), accrual.use()) is rules.RefReuse.REPLAYED:
            repeats.append(accrual)
        else:
            conflicts.append(conflict(accrual.line, accrual.external_ref, f"line {earlier.line}"))
    return Deduplicated(list(first.values()), repeats, conflicts)


def conflict(line: int, ref: str, earlier: str) -> Rejection:
    return Rejection(
        line,
        IdempotencyConflict.code,
        f"external_ref {ref} was already used by {earlier} for another member or amount",
    )
