"""Every root field, called as every caller, answers exactly what `matrix.py` says.

Queries and mutations go to the in-process app; subscriptions go over graphql-transport-ws
to a real API process, whose connection authenticates the token as browsers send it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import graphql

from schema.root import build_schema
from tests.security.matrix import MATRIX, Outcome, Row
from tests.security.world import A_SECRETS, CALLERS, World, build_world, caller_token
from tests.support.graphql import GraphQLClient
from tests.support.ws import graphql_socket

# Who may never see member A's address, whatever they ask.
STRANGERS_TO_A = ("anonymous", "member_b", "staff_w2")


def root_fields() -> list[str]:
    """`Query.me`, `Mutation.redeem`, ...: every root field of the schema, in schema order."""
    schema = graphql.build_schema(build_schema().as_str())
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    return [f"{root.name}.{name}" for root in roots if root is not None for name in root.fields]


def test_every_root_field_has_a_row_and_every_row_a_field() -> None:
    fields = root_fields()
    missing = [f for f in fields if f not in MATRIX]
    stale = [f for f in MATRIX if f not in fields]
    assert not missing, f"add a row to tests/security/matrix.py for: {missing}"
    assert not stale, f"these rows name fields the schema no longer has: {stale}"


def outcome(errors: list[dict[str, Any]], value: Any) -> Outcome | str:
    """What a caller got: an outcome of the matrix, or a description of anything else."""
    codes = [(e.get("extensions") or {}).get("code") for e in errors]
    if codes in (["UNAUTHENTICATED"], ["FORBIDDEN"]):
        return Outcome(codes[0])
    if codes == ["NOT_FOUND"]:
        return Outcome.NULL
    if errors:
        return f"unexpected errors {errors}"
    if value is None:
        return Outcome.NULL
    payload_codes = [e["code"] for e in value.get("errors", [])] if isinstance(value, dict) else []
    return Outcome.NULL if "NOT_FOUND" in payload_codes else Outcome.ALLOWED


async def over_http(api: GraphQLClient, field: str, row: Row, world: World, caller: str) -> Any:
    result = await api.query(row.document, row.variables(world, caller), auth=caller_token(caller))
    assert result.status == 200, (field, caller, result.body)
    value = (result.body.get("data") or {}).get(field.split(".")[1])
    return outcome(result.body.get("errors") or [], value), json.dumps(result.body)


async def over_websocket(base_url: str, field: str, row: Row, world: World, caller: str) -> Any:
    """Subscribe and wait: an error (or a result carrying one) arrives, or nothing does."""
    async with graphql_socket(base_url, caller_token(caller)) as socket:
        sid = await socket.subscribe(row.document, row.variables(world, caller))
        try:
            message = await socket.receive(timeout=0.5)
        except TimeoutError:
            return Outcome.ALLOWED, ""  # listening, and no error came
        await socket.send({"id": sid, "type": "complete"})
    assert message.get("id") == sid, message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return outcome(errors or [], None), json.dumps(message)


async def test_every_caller_gets_exactly_the_outcome_the_matrix_gives(
    api: GraphQLClient, security_server: str
) -> None:
    world = await build_world(api)
    wrong: list[str] = []
    leaks: list[str] = []
    for field in root_fields():
        row = MATRIX[field]
        for caller in CALLERS:
            if field.startswith("Subscription."):
                got, text = await over_websocket(security_server, field, row, world, caller)
            else:
                got, text = await over_http(api, field, row, world, caller)
            if got != row.expected[caller]:
                wrong.append(f"{field} as {caller}: expected {row.expected[caller]}, got {got}")
            if caller in STRANGERS_TO_A and any(secret in text for secret in A_SECRETS):
                leaks.append(f"{field} as {caller}: {text}")
    assert not leaks, "member A's address reached a stranger:\n" + "\n".join(leaks)
    assert not wrong, "\n".join(wrong)


async def test_refused_subscriptions_hold_no_listener_open(
    api: GraphQLClient, security_server: str
) -> None:
    """A refused subscription ends: the connection stays usable and nothing is left pending."""
    world = await build_world(api)
    row = MATRIX["Subscription.orderUpdated"]
    async with graphql_socket(security_server, caller_token("member_b")) as socket:
        sid = await socket.subscribe(row.document, row.variables(world, "member_b"))
        first = await socket.receive()
        assert first["id"] == sid
        if first["type"] == "next":
            assert (await socket.receive())["type"] == "complete"
        await asyncio.wait_for(socket.round_trip(), 5)
