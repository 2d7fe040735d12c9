"""The lean path answers exactly what the ordinary path answers.

Every query and mutation of the clients (tests/clients) is sent both ways: by trusted id
(the lean path: parse, validation and limits done once at load, a compiled plan for `Me`
and `Catalog`) and as its text with a newline added, which no longer matches the manifest
(the ordinary path: every check per request, the executor for every field); with
variables hypothesis generates from the operation's own types (often the world's real
values, sometimes hostile ones), as every caller, on the suite's database. The data and
the errors must be the same, after key ordering.

A mutation is sent by id first and then by text: what it changed is seen by the second
(a replayed redemption, an order already cancelled), so for mutations the two answers are
compared only when the first changed nothing (both refused, by GraphQL or by the domain),
which is where the two paths differ in what they check.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
from hypothesis import HealthCheck, given, seed, settings

from api.documents import document_id, load_manifest
from schema.root import build_schema
from tests.security.fuzzing import known_values
from tests.security.world import CALLERS, W1, World, build_world, caller_token
from tests.support.catalog import gift, stock
from tests.support.graphql import GraphQLClient
from tests.support.variables import variables_strategy

EXAMPLES = int(os.environ.get("LEAN_EXAMPLES", "6"))  # per document and caller
SEED = int(os.environ.get("FUZZ_SEED", "20261124"))


def comparable(response: httpx.Response) -> tuple[int, str]:
    """Status and body with keys sorted (an unexpected error's id is the only free text)."""
    body = response.json()
    for error in body.get("errors") or []:
        if "errorId" in (error.get("extensions") or {}):
            error["extensions"]["errorId"] = error["message"] = "-"
    return response.status_code, json.dumps(body, sort_keys=True, ensure_ascii=False)


def changed_nothing(body: dict[str, Any]) -> bool:
    """A mutation's answer that refused: request errors, or every payload with errors."""
    data = body.get("data")
    if not data:
        return True
    return all(isinstance(p, dict) and p.get("errors") for p in data.values())


def compare(base_url: str, world: World, answered: dict[str, int]) -> list[str]:
    """The differences found; `answered` counts the lean answers with data, by document."""
    schema = build_schema()._schema
    documents = [t for t in load_manifest().values() if not t.startswith("subscription")]
    differences: list[str] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for caller in CALLERS:
            token = caller_token(caller)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for text in documents:
                differences += _compare_document(
                    http, schema, world, text, headers, caller, answered
                )
    return differences


def _compare_document(
    http: httpx.Client,
    schema: Any,
    world: World,
    text: str,
    headers: dict[str, str],
    caller: str,
    answered: dict[str, int],
) -> list[str]:
    found: list[str] = []
    name = text.split("(")[0].split("{")[0].split()[-1]
    mutation = text.startswith("mutation")
    known = {**known_values(world), "first": [1, 5, 20, 100]}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(variables=variables_strategy(schema, text, known))
    def run(variables: dict[str, Any]) -> None:
        lean = http.post(
            "/graphql",
            json={"documentId": document_id(text), "variables": variables},
            headers=headers,
        )
        if lean.json().get("data") and not (lean.json().get("errors")):
            answered[name] = answered.get(name, 0) + 1
        if mutation and not changed_nothing(lean.json()):
            return
        ordinary = http.post(
            "/graphql", json={"query": text + "\n", "variables": variables}, headers=headers
        )
        if comparable(lean) != comparable(ordinary):
            found.append(
                f"{name} as {caller} with {json.dumps(variables)[:200]}:\n"
                f"  lean     {comparable(lean)[1][:600]}\n"
                f"  ordinary {comparable(ordinary)[1][:600]}"
            )

    run()
    return found


async def test_every_client_operation_answers_alike_both_ways(
    api: GraphQLClient, uncached_security_server: str
) -> None:
    world = await build_world(api)
    await gift(api, "SEC-CASH", 2500, cash="19.90", description="with a cash part")
    await stock(api, "SEC-CASH", W1, 4)
    answered: dict[str, int] = {}
    differences = await asyncio.to_thread(compare, uncached_security_server, world, answered)
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:10])
    assert answered.get("Me", 0) > 0, "the compiled Me answered (members' tokens)"
    assert answered.get("Catalog", 0) > EXAMPLES, f"the compiled Catalog answered: {answered}"
