"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def target() -> str:
    """Which database the suite runs on: `sqlite` (default) or `postgres`."""
    return os.environ.get("TEST_DATABASE", "sqlite")


def postgres_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


@asynccontextmanager
async def fresh_database(tmp_dir: Path) -> AsyncIterator[str]:
    """The URL of an empty database that is dropped afterwards."""
    if target() != "postgres":
        yield f"sqlite://{tmp_dir / 'pointsmall-test.sqlite3'}?busy_timeout=10000"
        return
    server = postgres_server_url()
    name = f"pointsmall_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(server, name) + "?minsize=1&maxsize=30"
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(server))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))
