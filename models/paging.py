"""Keyset pagination: pages that stay stable while rows are inserted.

A cursor is the sort key of the last row seen, opaque to clients (base64 of JSON). A page
asks for `first + 1` rows to learn whether there is a next page, so it costs one query
plus one `COUNT` for `total_count`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 100
# Both databases store integers in 64 bits; a larger value in a cursor cannot be sent to them.
INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class SortKey:
    """One column of a sort order; the last key of an order must be unique (the id)."""

    field: str
    descending: bool = False
    kind: Literal["int", "text", "datetime"] = "int"
    max_length: int = 200  # of a text column: a longer cursor value cannot be compared to it

    @property
    def ordering(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    total_count: int

    def map(self, convert: Callable[[T], Any]) -> Page[Any]:
        return Page(
            [convert(item) for item in self.items], self.cursors, self.has_next, self.total_count
        )


def check_page_size(first: int) -> None:
    """`first` is between 0 and 100; more is refused, never silently cut."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}", field="first")


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort values a cursor holds; raises InvalidInput for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, RecursionError) as exc:  # RecursionError: deep nesting
        raise InvalidInput("after is not a valid cursor", field="after") from exc
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidInput("after is not a valid cursor for this list", field="after")
    return [_key_value(key, value) for key, value in zip(keys, values, strict=True)]


def _key_value(key: SortKey, value: object) -> Any:
    """A cursor's value for `key`, of the kind the column holds; InvalidInput otherwise."""
    wrong = InvalidInput("after is not a valid cursor for this list", field="after")
    if key.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        if not INT64[0] <= value <= INT64[1]:
            raise wrong
        return value
    if not isinstance(value, str) or len(value) > key.max_length or "\x00" in value:
        raise wrong
    if key.kind == "text":
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise wrong from exc
    if moment.tzinfo is None or moment.utcoffset() is None or not 1 < moment.year < 9999:
        raise wrong  # aware and far from the ends of the calendar, so UTC conversion cannot fail
    return moment


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):
        return value.value
    return value


def after_filter(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in the order `keys` describes."""
    clauses = []
    for depth, key in enumerate(keys):
        equal = {k.field: v for k, v in zip(keys[:depth], values[:depth], strict=True)}
        op = "lt" if key.descending else "gt"
        clauses.append(Q(**equal, **{f"{key.field}__{op}": values[depth]}))
    return Q(*clauses, join_type="OR")


async def paginate(
    query: QuerySet[Any],
    *,
    keys: Sequence[SortKey],
    first: int,
    after: str | None,
    key_of: Callable[[Any], Sequence[Any]],
) -> Page[Any]:
    """One page of `query` in `keys` order, after the cursor `after`."""
    check_page_size(first)
    total = await query.count()
    if first == 0:
        return Page([], [], total > 0 and after is None, total)
    page_query = query.order_by(*(k.ordering for k in keys))
    if after is not None:
        page_query = page_query.filter(after_filter(keys, decode_cursor(after, keys)))
    rows = list(await page_query.limit(first + 1))
    items = rows[:first]
    return Page(items, [encode_cursor(key_of(r)) for r in items], len(rows) > first, total)
