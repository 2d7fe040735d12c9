"""A tiny graphql-transport-ws client for end-to-end tests (the `websockets` package)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class GraphQLSocket:
    """One connection: subscribe, then read `next`, `error` and `complete` messages."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = 0
        self._pending: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message other than ping/pong (answering pings)."""
        if self._pending:
            return self._pending.pop(0)
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
            elif message["type"] != "pong":
                return message

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        """Start a subscription and return its id once the server is listening."""
        self._ids += 1
        sid = str(self._ids)
        await self.send(
            {"id": sid, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        await self.round_trip()
        return sid

    async def round_trip(self) -> None:
        """A ping answered by a pong: the server has handled what was sent before it."""
        await self.send({"type": "ping"})
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), 10))
            if message["type"] == "pong":
                break
            if message["type"] == "ping":
                await self.send({"type": "pong"})
            else:
                self._pending.append(message)
        # The operation task starts on the server's next loop turns; give it a moment.
        await asyncio.sleep(0.3)

    async def next_payload(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """The payload of the subscription's next `next` message; fails on anything else."""
        message = await self.receive(timeout)
        assert message.get("id") == sid, message
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        return payload


@asynccontextmanager
async def graphql_socket(base_url: str, token: str | None) -> AsyncIterator[GraphQLSocket]:
    """A connected, acknowledged graphql-transport-ws session on `base_url`/graphql."""
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        socket = GraphQLSocket(connection)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await socket.send({"type": "connection_init", "payload": payload})
        ack = await socket.receive()
        assert ack["type"] == "connection_ack", ack
        yield socket
