"""End-to-end fixtures: the API as a real uvicorn process on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import StripeFake
from tests.support.graphql import GraphQLClient
from tests.support.server import api_process


@pytest_asyncio.fixture(scope="session")
async def server_url(orm: str, session_tmp: Path, stripe_server: StripeFake) -> AsyncIterator[str]:
    """One API process for the session, on the session's database and Stripe test server."""
    env = {
        "STRIPE_API_BASE": stripe_server.base_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_TIMEOUT_SECONDS": "3",
    }
    async with api_process(orm, session_tmp / "api-e2e.log", env) as url:
        yield url


@pytest_asyncio.fixture
async def http_api(db: str, server_url: str, stripe: StripeFake) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client over real HTTP to the API process; Stripe webhooks go there too."""
    stripe.webhook_url = f"{server_url}/webhooks/stripe"
    stripe.webhook_transport = None
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        yield GraphQLClient(http)
