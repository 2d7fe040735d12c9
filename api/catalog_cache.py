"""Answers to the public catalog queries, kept until anything they show changes.

A catalog page costs hundreds of resolver calls, and a campaign has thousands of members
asking for the same page. An operation whose root fields are only `gifts`, `categories` and
`gift` (what the notices below keep fresh) is answered from here unless it names, in its
text or its variables' values, a field, argument or input field the schema marks as
depending on who the caller is (`@callerDependent(on: IDENTITY)`, such as `affordable`;
schema/caller_dependence.py). It is keyed by its text, variables, operation name and
whether the caller is an admin (who also sees inactive gifts: `on: ADMIN`). Only complete
answers (status 200, no errors) are kept. While
one request computes an answer, the same requests wait for it instead of computing it too
(an expired page under load would otherwise be computed by every request at once).

Dropped on every change the catalog shows: placing, cancelling or shipping an order moves
stock and ship days and announces `ORDERS`; the back office's gift, category, warehouse
and stock edits announce `CATALOG`. `announce` tells this process's watchers at once and,
on PostgreSQL, every replica again at commit (LISTEN/NOTIFY), so an answer computed while a
change was being committed does not outlive it. An entry also lives at most `max_age`
seconds: the promised ship day turns at midnight without any write, and a notice lost
while the listener reconnects cannot keep an answer stale for longer than that.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from prometheus_client import Counter

from schema.caller_dependence import CallerDependence, CallerTrait, caller_dependence
from schema.root import build_schema

ANSWERS = Counter(
    "pointsmall_catalog_answers_total",
    "Public catalog reads by how they were answered: cached, shared (waited for another "
    "request computing the same answer) or computed.",
    ["source"],
)
PUBLIC_ROOT_FIELDS = frozenset({"gifts", "categories", "gift", "__typename"})
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Entry:
    version: int
    born: float
    body: bytes


@cache
def _schema() -> GraphQLSchema:
    """The service's types (every schema `build_schema` makes has the same ones)."""
    return build_schema()._schema


def is_public_catalog_read(query: str, operation_name: str | None) -> bool:
    """Whether the operation only reads the public catalog, the same for every caller
    (its variables' values aside: `cache_key` looks at those)."""
    return _public_read(query, operation_name) is not None


@lru_cache(maxsize=512)
def _public_read(query: str, operation_name: str | None) -> CallerDependence | None:
    """What a public catalog read depends on of the caller; None for any other operation."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    chosen = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return None
    if not all(
        isinstance(s, FieldNode) and s.name.value in PUBLIC_ROOT_FIELDS
        for s in chosen[0].selection_set.selections
    ):
        return None
    dependence = caller_dependence(_schema(), document, chosen[0])
    return None if CallerTrait.IDENTITY in dependence.traits else dependence


def cache_key(payload: Any, *, admin: bool) -> tuple[str, str, str | None, bool] | None:
    """The key of a POSTed GraphQL payload, or None if its answer must not be shared."""
    if not isinstance(payload, dict):
        return None
    query, name, variables = (
        payload.get("query"),
        payload.get("operationName"),
        payload.get("variables"),
    )
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return None
    if not (variables is None or isinstance(variables, dict)):
        return None
    return operation_key(query, name, variables, admin=admin)


def operation_key(
    query: str, name: str | None, variables: dict[str, Any] | None, *, admin: bool
) -> tuple[str, str, str | None, bool] | None:
    """The key of an operation's answer (however the request named its document), or None
    if its answer must not be shared."""
    read = _public_read(query, name)
    if read is None or CallerTrait.IDENTITY in read.with_variables(variables or {}):
        return None
    return (query, json.dumps(variables or {}, sort_keys=True), name, admin)


class CatalogCache:
    """A bounded LRU of answers; `invalidate` (a bus watcher) drops them all."""

    def __init__(
        self, *, max_age: float, size: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self.size = size
        self.clock = clock
        self.version = 0
        self._entries: OrderedDict[object, Entry] = OrderedDict()
        self._computing: dict[object, asyncio.Future[bytes | None]] = {}

    def invalidate(self, _channel: str = "", _payload: str = "") -> None:
        self.version += 1
        self._entries.clear()

    def get(self, key: object) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.version != self.version or self.clock() - entry.born > self.max_age:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.body

    async def wait(self, key: object) -> bytes | None:
        """The answer another request is computing for `key`, if it turns out current."""
        computing = self._computing.get(key)
        return None if computing is None else await asyncio.shield(computing)

    @contextmanager
    def computing(self, key: object) -> Iterator[Callable[[bytes | None], None]]:
        """While the block computes `key`, same requests wait; call `done` with what was kept."""
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._computing.setdefault(key, future)

        def done(body: bytes | None) -> None:
            if not future.done():
                future.set_result(body)

        try:
            yield done
        finally:
            done(None)
            if self._computing.get(key) is future:
                del self._computing[key]

    def put(self, key: object, *, version: int, born: float, body: bytes) -> bool:
        """Keep `body`, computed from the data as of `version`, unless that is already old."""
        if version != self.version or len(body) > MAX_BODY_BYTES or b'"errors"' in body:
            return False
        self._entries[key] = Entry(version, born, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return True
