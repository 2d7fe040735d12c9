"""Fixtures: a migrated test database (SQLite or PostgreSQL), a clean slate per test, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate

from api.app import create_app
from api.db import tortoise_config
from tests.fakes.stripe_server import StripeFake
from tests.support.databases import fresh_database, is_postgres_url
from tests.support.graphql import GraphQLClient
from tests.support.settings import settings_for

STRIPE_WEBHOOK_SECRET = "whsec_pointsmall_tests"


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pointsmall")


@pytest_asyncio.fixture(scope="session")
async def database_url(session_tmp: Path) -> AsyncIterator[str]:
    """A fresh database with the migrations applied, for the whole session."""
    async with fresh_database(session_tmp) as url:
        await migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
        yield url


@pytest_asyncio.fixture(scope="session")
async def orm(database_url: str) -> AsyncIterator[str]:
    """Tortoise connected to the session's database (the global context)."""
    await Tortoise.init(config=tortoise_config(database_url))
    yield database_url
    await Tortoise.close_connections()


@pytest_asyncio.fixture
async def db(orm: str) -> AsyncIterator[str]:
    """A clean database for one test: every table emptied afterwards."""
    yield orm
    await empty_all_tables(orm)


async def empty_all_tables(url: str) -> None:
    connection = connections.get("default")
    tables = [model._meta.db_table for model in Tortoise.apps["pointsmall"].values()]
    if is_postgres_url(url):
        quoted = ", ".join(f'"{t}"' for t in tables)
        await connection.execute_script(f"TRUNCATE TABLE {quoted} RESTART IDENTITY CASCADE")
        return
    statements = ["PRAGMA foreign_keys = OFF"]
    statements += [f'DELETE FROM "{t}"' for t in tables]
    statements += ["DELETE FROM sqlite_sequence", "PRAGMA foreign_keys = ON"]
    await connection.execute_script(";\n".join(statements))


@pytest_asyncio.fixture(scope="session")
async def stripe_server() -> AsyncIterator[StripeFake]:
    """The local Stripe-compatible server, one for the session."""
    async with StripeFake.running(webhook_secret=STRIPE_WEBHOOK_SECRET) as server:
        yield server


@pytest_asyncio.fixture
async def stripe(stripe_server: StripeFake) -> AsyncIterator[StripeFake]:
    """The Stripe test server, reset for this test."""
    stripe_server.reset()
    stripe_server.delay(0)
    yield stripe_server
    stripe_server.delay(0)


@pytest_asyncio.fixture
async def api(db: str, stripe: StripeFake) -> AsyncIterator[GraphQLClient]:
    """The ASGI app in-process, on the test database, talking to the Stripe test server."""
    settings = settings_for(
        db,
        stripe_api_base=stripe.base_url,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        stripe_timeout_seconds=2.0,
    )
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    stripe.webhook_url = "http://testserver/webhooks/stripe"
    stripe.webhook_transport = transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)
    await app.state.services.payments.close()
