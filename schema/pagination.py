"""Relay connections: `edges { cursor node }`, `pageInfo` and `totalCount`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from models.paging import Page

N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    total_count: int
    page_info: PageInfo
    edges: list[Edge[N]]


def connection(page: Page[Any], convert: Callable[[Any], N], *, after: str | None) -> Connection[N]:
    """A connection of converted rows, one edge per row of the domain page."""
    edges = [
        Edge(cursor=c, node=convert(item)) for c, item in zip(page.cursors, page.items, strict=True)
    ]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=after is not None,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    return Connection(total_count=page.total_count, page_info=info, edges=edges)
