"""The SQLite engine: transactions take the write lock when they begin (`BEGIN IMMEDIATE`).

Tortoise begins SQLite transactions with a plain (deferred) `BEGIN`: the transaction reads
under a snapshot and asks for the write lock at its first write. With a second process on
the file (the worker beside the API, a CLI import), a transaction that has read and then
writes after the other process committed cannot be serialised, and SQLite fails it at once
with "database is locked", whatever the busy timeout. Taking the lock at `BEGIN` makes the
other process wait its turn (up to the busy timeout) instead, as a row lock does on
PostgreSQL. Within one process Tortoise already runs one transaction at a time.

When that BEGIN still fails after the busy timeout, the transaction lock of the connection
is released and the task's connection left as it was (`api.transactions`); Tortoise's own
context would keep both, and every later transaction of the process would wait forever.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import OperationalError

from api.transactions import begin_as_current

ENGINE = "api.sqlite"


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # still locked after the busy timeout
            raise OperationalError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> ImmediateTransactionWrapper:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = await begin_as_current(self.connection_name, self.connection)
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection  # type: ignore[no-any-return]


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    """Read by Tortoise when a connection names this module as its engine."""
    return ImmediateSqliteClient


client_class = ImmediateSqliteClient
