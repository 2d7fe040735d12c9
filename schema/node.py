"""Helpers for `node(id:)` and inputs that take global ids: global ids carry the row id as
a string."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry import relay

from models.errors import InvalidInput


def row_ids(node_ids: Iterable[str]) -> list[int | None]:
    """Row ids of the requested nodes, None where the id part is not a row id (ASCII digits
    only: `str.isdigit` also holds for "²", which `int` refuses, and "٣", which it reads as 3)."""
    return [int(i) if i.isascii() and i.isdigit() and len(i) < 19 else None for i in node_ids]


def row_id_of(global_id: str, type_name: str, *, field: str) -> int:
    """The row id a global id of `type_name` names; raises InvalidInput for any other text
    (not a global id, another type's, no row id)."""
    try:
        parsed = relay.GlobalID.from_id(global_id)
    except relay.GlobalIDValueError:
        parsed = None
    (row_id,) = row_ids([parsed.node_id]) if parsed is not None else [None]
    if parsed is None or parsed.type_name != type_name or row_id is None:
        raise InvalidInput(f"not the id of a {type_name}", field=field)
    return row_id
