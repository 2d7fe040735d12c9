"""Exit 0 when the test PostgreSQL server answers, 1 otherwise (used by `make test`)."""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from tests.support.databases import _asyncpg_dsn, postgres_server_url


async def reachable() -> bool:
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(postgres_server_url()), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(reachable()) else 1)
