"""Browser tests: Debian's Chromium driven by Playwright (its async API, on the suite's one
event loop), against the real API process on the test database.

Playwright's own browser download cannot be reached here and is never used: the browser is
`/usr/bin/chromium`, which the Makefile installs. Without it the tests are skipped, except
in CI, where they fail. Every page a test opens is watched: a console error, an uncaught
exception, a failed request or an HTTP error answer fails the test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response

from tests.support.graphql import GraphQLClient
from tests.support.server import api_process

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"{CHROMIUM} is required in CI (make chromium installs it)")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (make chromium installs it)")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, not a browser of Playwright's own."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True}


# A ticket's promise is at risk from the moment it is opened (its first reply is due in 48
# hours, under this threshold): the service desk's tests see at-risk tickets without waiting.
SERVICE_AT_RISK_HOURS = 50


@pytest_asyncio.fixture(scope="session")
async def console_server(orm: str, session_tmp: Path) -> AsyncIterator[str]:
    """One API process for the browser tests, on the session's database."""
    env = {"SERVICE_AT_RISK_HOURS": str(SERVICE_AT_RISK_HOURS)}
    async with api_process(orm, session_tmp / "api-browser.log", env=env) as url:
        yield url


@pytest_asyncio.fixture
async def server(db: str, console_server: str) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client of the API process (for what the test does besides the browser)."""
    async with httpx.AsyncClient(base_url=console_server, timeout=30) as http:
        yield GraphQLClient(http)


@dataclass
class Watched:
    """A page and everything that went wrong on it."""

    page: Page
    problems: list[str] = field(default_factory=list)

    async def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


def watch(page: Page) -> Watched:
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            watched.problems.append(f"console {message.type}: {message.text}")

    def on_failed(request: Request) -> None:
        watched.problems.append(f"request failed: {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            watched.problems.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return watched


@pytest_asyncio.fixture
async def pages(browser: Browser, console_server: str) -> AsyncIterator[Any]:
    """Opens watched pages, each in its own browser context (its own sessionStorage);
    fails the test if anything went wrong on any of them."""
    opened: list[Watched] = []

    async def open_page(path: str = "/console/", before: Any = None) -> Watched:
        """A watched page at `path`; `before(page)` runs before it loads (routes, say)."""
        context = await browser.new_context(
            base_url=console_server, viewport={"width": 1280, "height": 900}, locale="zh-CN"
        )
        watched = watch(await context.new_page())
        opened.append(watched)
        if before is not None:
            await before(watched.page)
        await watched.page.goto(path)
        return watched

    yield open_page
    problems = [problem for watched in opened for problem in watched.problems]
    for watched in opened:
        await watched.page.context.close()
    assert problems == [], problems
