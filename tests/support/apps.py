"""The app in-process with settings of a test's own (trusted documents, cache off...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from api.app import create_app
from tests.support.settings import settings_for


@asynccontextmanager
async def app_client(db: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of the ASGI app built from the test settings and `settings`."""
    app = create_app(settings_for(db, **settings), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.services.payments.close()
