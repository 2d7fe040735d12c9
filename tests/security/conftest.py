"""Security fixtures: the API as a real uvicorn process, with browser origins configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import StripeFake
from tests.support.server import api_process

ALLOWED_ORIGIN = "https://app.pointsmall.example"


@pytest_asyncio.fixture(scope="session")
async def security_server(
    orm: str, session_tmp: Path, stripe_server: StripeFake
) -> AsyncIterator[str]:
    """One API process for the security tests: one allowed browser origin, no write limit
    (the fuzzer writes far more than a member may in a minute)."""
    async with api_process(orm, session_tmp / "api-security.log", _env(stripe_server)) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def trusted_security_server(
    orm: str, session_tmp: Path, stripe_server: StripeFake
) -> AsyncIterator[str]:
    """The same, running only trusted documents (GRAPHQL_DOCUMENTS=trusted)."""
    env = {**_env(stripe_server), "GRAPHQL_DOCUMENTS": "trusted"}
    async with api_process(orm, session_tmp / "api-security-trusted.log", env) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def uncached_security_server(
    orm: str, session_tmp: Path, stripe_server: StripeFake
) -> AsyncIterator[str]:
    """The same without the shared catalog answers (CATALOG_CACHE_SECONDS=0): every answer
    is computed by the path the request takes."""
    env = {**_env(stripe_server), "CATALOG_CACHE_SECONDS": "0"}
    async with api_process(orm, session_tmp / "api-security-uncached.log", env) as url:
        yield url


def _env(stripe_server: StripeFake) -> dict[str, str]:
    return {
        "STRIPE_API_BASE": stripe_server.base_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_TIMEOUT_SECONDS": "3",
        "ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "RATE_LIMIT_PER_MINUTE": "0",
    }
