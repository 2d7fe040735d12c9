"""Entering a transaction so that a failed BEGIN leaves nothing behind.

Tortoise's transaction contexts make the transaction the task's connection and only then
send BEGIN. When BEGIN fails (PostgreSQL restarting under a pooled connection that looked
open, SQLite still locked by another process after the busy timeout), `async with` never
calls `__aexit__`: the task keeps a dead transaction as its connection, so every later
statement of that task fails, and on SQLite the connection's transaction lock is never
released. For a long-running task (the worker's sweeper loop) that is permanent. The
engines in `api.postgres` and `api.sqlite` enter through `begin_as_current`, which undoes
the first step when the second fails.
"""

from __future__ import annotations

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import ConnectionToken, get_connections


async def begin_as_current(name: str, client: TransactionalDBClient) -> ConnectionToken:
    """Make `client` the task's connection `name` and begin its transaction, or neither."""
    token = get_connections().set(name, client)
    try:
        await client.begin()
    except BaseException:
        get_connections().reset(token)
        raise
    return token
