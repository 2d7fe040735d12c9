"""Whether a driver's exception means the database is out of reach.

Below both `api/` and `schema/`, which answer an outage each in their own way: GraphQL with
`SERVICE_UNAVAILABLE` (`schema/errors.py`), the plain routes with 503 (`api/outage.py`).
It reads only the drivers' and Tortoise's exception types, so either layer may ask it.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from tortoise.exceptions import DBConnectionError

# What the driver raises when PostgreSQL cannot be reached or drops the session: refused
# or reset connections, a server starting up or shutting down, a backend terminated by an
# administrator (`pg_terminate_backend`, a fast shutdown), no connection slots left.
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


# SQLite's "database is locked" (SQLITE_BUSY) and "database table is locked" (SQLITE_LOCKED),
# with their extended codes: another process held the write lock past the busy timeout.
SQLITE_BUSY_OR_LOCKED = frozenset({5, 6})


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it came from, says the database is out of reach.

    The chain matters: a transaction whose connection was cut fails again in its rollback,
    and that second error carries the first as its context. On SQLite a write lock still
    held by another process after the busy timeout counts too: nothing was written, and a
    retry a moment later succeeds.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DATABASE_UNAVAILABLE):
            return True
        if isinstance(current, sqlite3.OperationalError) and (
            getattr(current, "sqlite_errorcode", 0) & 0xFF in SQLITE_BUSY_OR_LOCKED
        ):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
