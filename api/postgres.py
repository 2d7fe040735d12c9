"""The PostgreSQL engine: Tortoise's asyncpg client with two changes.

- Pooled connections go back to the pool without asyncpg's reset query (`PooledConnection`).
- A transaction whose BEGIN fails (the server restarted under a pooled connection that still
  looked open) leaves the task's connection as it was and gives its pool connection back
  (`api.transactions`); Tortoise's own context would leave the dead transaction as the
  task's connection for good.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)

from api.transactions import begin_as_current

ENGINE = "api.postgres"


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled PostgreSQL connection released without asyncpg's reset query.

    asyncpg sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` each
    time a connection goes back to the pool, and Tortoise takes a pool connection for every
    statement outside a transaction: a round trip per statement, for session state this
    service never creates (no advisory locks, cursors, LISTEN or SET on pooled connections;
    the notification listener has a connection of its own). asyncpg still rolls back a
    transaction left open.
    """

    def get_reset_query(self) -> str:
        return ""


class PooledTransactionContext(TransactionContextPooled):
    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        pool = self.client._parent._pool
        self.client._connection = await pool.acquire()
        try:
            self.token = await begin_as_current(self.connection_name, self.client)
        except BaseException:
            await pool.release(self.client._connection)
            raise
        return self.client


class PostgresClient(AsyncpgDBClient):
    connection_class = PooledConnection

    def _in_transaction(self) -> TransactionContext:
        return PooledTransactionContext(TransactionWrapper(self), self._pool_init_lock)


def get_client_class(db_info: dict[str, Any]) -> type[AsyncpgDBClient]:
    """Read by Tortoise when a connection names this module as its engine."""
    return PostgresClient


client_class = PostgresClient
