"""Helpers for `node(id:)`: global ids carry the row id as a string."""

from __future__ import annotations

from collections.abc import Iterable


def row_ids(node_ids: Iterable[str]) -> list[int | None]:
    """Row ids of the requested nodes, None where the id part is not a row id (ASCII digits
    only: `str.isdigit` also holds for "²", which `int` refuses, and "٣", which it reads as 3)."""
    return [int(i) if i.isascii() and i.isdigit() and len(i) < 19 else None for i in node_ids]
