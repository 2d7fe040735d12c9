"""Generated operations against a real API process: no server error, no unmasked exception.

Every query and mutation of the live schema is fuzzed as each role (none, member, warehouse
staff, admin), on the suite's database (PostgreSQL with TEST_DATABASE=postgres). The run is
seeded and short here; `make fuzz` sets FUZZ_EXAMPLES for thousands of operations.

Under GRAPHQL_DOCUMENTS=trusted the same generated documents must all be refused, sent as
text or with their own APQ hash; and the trusted documents themselves, by id, with
generated variables, are the lean path's fuzz.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import suppress
from pathlib import Path
from random import Random

import graphql
import httpx
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation

from api.documents import NOT_TRUSTED, document_id, load_manifest
from schema.root import build_schema
from tests.security.fuzzing import Findings, known_values, plant, register_scalars
from tests.security.world import MEMBER_A, W1, World, build_world
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token
from tests.support.variables import variables_strategy

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))  # per operation and role
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261124"))
ROLES = {
    "none": None,
    "member": member_token(MEMBER_A),
    "warehouse": staff_token(W1),
    "admin": admin_token(),
}


def fuzz_operation(
    operation: APIOperation,
    http: httpx.Client,
    token: str | None,
    label: str,
    world: World,
    *,
    trusted: bool = False,
) -> Findings:
    """Send FUZZ_EXAMPLES generated documents of one operation; what went wrong, if anything."""
    findings = Findings()
    values = known_values(world)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    positive = operation.as_strategy()
    negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    # Mostly documents GraphQL accepts, which reach the resolvers; a quarter it must refuse.
    cases = st.integers(0, 3).flatmap(lambda n: negative if n == 0 else positive)

    @seed(FUZZ_SEED)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, random=st.randoms(use_true_random=False))
    def run(case: schemathesis.Case, random: Random) -> None:
        document = str(case.body)
        if random.random() < 0.7:
            with suppress(graphql.GraphQLError):  # a negative document may not parse: sent as is
                document = plant(document, values, random)
        body: dict[str, object] = {"query": document}
        if trusted and random.random() < 0.5:  # its true hash: still not a trusted document
            digest = document_id(document).split(":")[1]
            body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        response = http.post("/graphql", json=body, headers=headers)
        findings.check(label, document, response)
        if trusted:
            findings.refused(label, document, response, NOT_TRUSTED)

    run()
    return findings


def fuzz_trusted_document(
    text: str, http: httpx.Client, token: str | None, label: str, world: World
) -> Findings:
    """FUZZ_EXAMPLES requests of one trusted document by id, with generated variables."""
    findings = Findings()
    strategy = variables_strategy(build_schema()._schema, text, known_values(world))

    @seed(FUZZ_SEED)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(variables=strategy)
    def run(variables: dict[str, object]) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"documentId": document_id(text), "variables": variables}
        response = http.post("/graphql", json=body, headers=headers)
        findings.check(label, f"{text.splitlines()[0]} {json.dumps(variables)[:300]}", response)

    run()
    return findings


def fuzz_trusted(base_url: str, world: World) -> Findings:
    """Every generated document refused; every trusted query and mutation fuzzed by id."""
    found = fuzz(base_url, world, trusted=True)
    documents = [t for t in load_manifest().values() if not t.startswith("subscription")]
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for role, token in ROLES.items():
            for text in documents:
                label = f"{text.split('(')[0].split('{')[0].strip()} by id as {role}"
                found.merge(fuzz_trusted_document(text, http, token, label, world))
    return found


def fuzz(base_url: str, world: World, *, trusted: bool = False) -> Findings:
    """Every query and mutation of the live schema, as every role."""
    register_scalars(world)
    schema = (
        schemathesis.graphql.from_dict(graphql.introspection_from_schema(build_schema()._schema))
        if trusted  # introspection is not a trusted document
        else schemathesis.graphql.from_url(f"{base_url}/graphql")
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    found = Findings()
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for role, token in ROLES.items():
            for operation in operations:
                label = f"{operation.label} as {role}"
                found.merge(fuzz_operation(operation, http, token, label, world, trusted=trusted))
    assert len(found.tried) == len(operations) * len(ROLES), "every operation, as every role"
    return found


def unexpected_errors(log: Path) -> str:
    """The server's own account of its unexpected errors: each one's last traceback line."""
    if not log.exists():
        return ""
    found = []
    for line in log.read_text().splitlines():
        if "unexpected error" in line and line.startswith("{"):
            record = json.loads(line)
            last = str(record.get("exc_info", "")).strip().splitlines()[-1:]
            found.append(f"{record['message']}: {''.join(last)[:300]}")
    return "\n".join(dict.fromkeys(found))


async def test_generated_operations_get_an_answer_with_a_known_code(
    api: GraphQLClient, security_server: str, session_tmp: Path
) -> None:
    world = await build_world(api)
    findings = await asyncio.to_thread(fuzz, security_server, world)
    assert not findings.examples, (
        f"{len(findings.examples)} kinds of failure in {findings.sent} operations:\n\n"
        + findings.report()
        + "\n\nserver log:\n"
        + unexpected_errors(session_tmp / "api-security.log")
    )


async def test_trusted_mode_refuses_every_generated_document_and_fuzzes_its_own(
    api: GraphQLClient, trusted_security_server: str, session_tmp: Path
) -> None:
    world = await build_world(api)
    findings = await asyncio.to_thread(fuzz_trusted, trusted_security_server, world)
    assert not findings.examples, (
        f"{len(findings.examples)} kinds of failure in {findings.sent} operations:\n\n"
        + findings.report()
        + "\n\nserver log:\n"
        + unexpected_errors(session_tmp / "api-security-trusted.log")
    )
