"""Generated operations against a real API process: no server error, no unmasked exception.

Every query and mutation of the live schema is fuzzed as each role (none, member, warehouse
staff, admin), on the suite's database (PostgreSQL with TEST_DATABASE=postgres). The run is
seeded and short here; `make fuzz` sets FUZZ_EXAMPLES for thousands of operations.
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

from tests.security.fuzzing import Findings, known_values, plant, register_scalars
from tests.security.world import MEMBER_A, W1, World, build_world
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))  # per operation and role
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261124"))
ROLES = {
    "none": None,
    "member": member_token(MEMBER_A),
    "warehouse": staff_token(W1),
    "admin": admin_token(),
}


def fuzz_operation(
    operation: APIOperation, http: httpx.Client, token: str | None, label: str, world: World
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
        response = http.post("/graphql", json={"query": document}, headers=headers)
        findings.check(label, document, response)

    run()
    return findings


def fuzz(base_url: str, world: World) -> Findings:
    """Every query and mutation of the live schema, as every role."""
    register_scalars(world)
    schema = schemathesis.graphql.from_url(f"{base_url}/graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    found = Findings()
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for role, token in ROLES.items():
            for operation in operations:
                label = f"{operation.label} as {role}"
                part = fuzz_operation(operation, http, token, label, world)
                found.sent += part.sent
                found.tried |= part.tried
                for kind, example in part.examples.items():
                    found.examples.setdefault(kind, example)
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
