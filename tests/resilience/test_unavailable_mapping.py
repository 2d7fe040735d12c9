"""A database out of reach is `SERVICE_UNAVAILABLE` (GraphQL) or 503 (plain routes), never masked.

The fault tests prove it against a real PostgreSQL; these pin the mapping itself, for every
shape the driver's failures take, without a database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from api.outage import DatabaseOutageMiddleware
from models.database_outage import database_unavailable
from schema.errors import ErrorPolicy


def rolled_back_on_a_dead_connection() -> Exception:
    """What a transaction whose backend was terminated raises: its rollback's error."""
    try:
        try:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        except asyncpg.ConnectionDoesNotExistError:
            raise asyncpg.InterfaceError("cannot call Transaction.rollback()") from None
    except asyncpg.InterfaceError as exc:
        caught: Exception = exc
    return caught


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "reset"),
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        DBConnectionError("can't connect"),
        TransactionManagementError("wrapped"),  # with a connection error as its cause, below
        rolled_back_on_a_dead_connection(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_ways_the_database_goes_away_are_recognised(error: Exception) -> None:
    if isinstance(error, TransactionManagementError):
        error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        OperationalError("syntax error at or near"),
        asyncpg.UniqueViolationError("duplicate key"),
        ValueError("bad"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_failures_are_not_taken_for_an_outage(error: Exception) -> None:
    assert not database_unavailable(error)


@strawberry.type
class Query:
    @strawberry.field
    def orders(self) -> int:
        raise ConnectionRefusedError(111, "Connection refused to postgres://u:p@db")

    @strawberry.field
    def broken(self) -> int:
        raise RuntimeError("a bug")


schema = strawberry.Schema(query=Query, extensions=[ErrorPolicy])


async def test_graphql_says_service_unavailable_without_internals() -> None:
    result = await schema.execute("{ orders }")
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "SERVICE_UNAVAILABLE"}
    assert "postgres://" not in error.message
    assert error.path == ["orders"]


async def test_a_bug_is_still_masked_as_internal() -> None:
    result = await schema.execute("{ broken }")
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"


async def webhook_down(request: Request) -> Response:
    raise asyncpg.CannotConnectNowError("the database system is starting up")


async def webhook_bug(request: Request) -> Response:
    raise RuntimeError("a bug")


app = Starlette(
    routes=[Route("/down", webhook_down, methods=["POST"]), Route("/bug", webhook_bug)],
    middleware=[Middleware(DatabaseOutageMiddleware)],
)


async def test_a_plain_route_answers_503_with_retry_after_when_the_database_is_away() -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        down = await http.post("/down")
        bug = await http.get("/bug")
    assert (down.status_code, down.headers["retry-after"]) == (503, "5")
    assert "starting up" not in down.text
    assert bug.status_code == 500


def sqlite_failure(tmp_path: Path, *, locked: bool) -> sqlite3.OperationalError:
    """A real error of SQLite: the write lock still held by another connection, or a typo."""
    path = tmp_path / "lock.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE" if locked else "SELEC 1")
    finally:
        holder.close()
        waiter.close()
    return caught.value


def test_sqlite_locked_past_the_busy_timeout_is_an_unavailability(tmp_path: Path) -> None:
    locked = sqlite_failure(tmp_path, locked=True)
    assert database_unavailable(locked)
    wrapped = OperationalError(locked)  # as Tortoise wraps it
    wrapped.__cause__ = locked
    assert database_unavailable(wrapped)
    assert not database_unavailable(sqlite_failure(tmp_path, locked=False))
