"""Websockets only from configured browser origins: checked at the handshake, on a real process.

A browser always sends `Origin` and carries the user's ambient credentials, so a page on
another site must not open a subscription; a client that sends no `Origin` is not a browser
and authenticates with its token like any other caller.
"""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from tests.security.conftest import ALLOWED_ORIGIN
from tests.support.graphql import member_token

PROTOCOL = Subprotocol("graphql-transport-ws")


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/graphql"


async def handshake(base_url: str, origin: str | None) -> dict[str, object]:
    """Open a socket from `origin` and initialise it; the server's first answer."""
    async with connect(
        ws_url(base_url), subprotocols=[PROTOCOL], origin=Origin(origin) if origin else None
    ) as socket:
        payload = {"Authorization": f"Bearer {member_token('SEC-A')}"}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        answer: dict[str, object] = json.loads(await socket.recv())
        return answer


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://app.pointsmall.example.evil.example",  # a suffix is not the origin
        "http://app.pointsmall.example",  # nor another scheme
        "https://app.pointsmall.example:8443",  # nor another port
        "null",  # sandboxed frames and file:// pages
    ],
)
async def test_a_browser_origin_not_configured_is_refused_at_the_handshake(
    security_server: str, origin: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await handshake(security_server, origin)
    assert refused.value.response.status_code == 403


async def test_a_configured_origin_is_accepted(security_server: str) -> None:
    assert (await handshake(security_server, ALLOWED_ORIGIN))["type"] == "connection_ack"


async def test_a_client_without_an_origin_is_accepted(security_server: str) -> None:
    assert (await handshake(security_server, None))["type"] == "connection_ack"


async def test_a_socket_message_that_is_not_json_closes_that_socket_only(
    security_server: str,
) -> None:
    """Nesting deeper than the JSON parser recurses is "not JSON" (4400), never a crash."""
    async with connect(ws_url(security_server), subprotocols=[PROTOCOL]) as socket:
        await socket.send("[" * 100_000 + "]" * 100_000)
        await socket.wait_closed()
    assert socket.close_code == 4400
    assert (await handshake(security_server, None))["type"] == "connection_ack"


async def test_the_consoles_own_origin_is_accepted_without_being_configured(
    security_server: str,
) -> None:
    """The console is served by the API itself: its page's origin is the socket's host."""
    assert (await handshake(security_server, security_server))["type"] == "connection_ack"
