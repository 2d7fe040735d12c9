"""Every operation the frontends send validates against the schema."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, validate

from schema.root import build_schema
from tests.support.graphql import client_documents, operation

# Operations a later capability will serve; this list only ever shrinks.
NOT_YET_SERVED: set[str] = set()

ALL_OPERATIONS = sorted(
    d.name.value
    for document in client_documents().values()
    for d in document.definitions
    if isinstance(d, OperationDefinitionNode) and d.name
)


@pytest.mark.parametrize("name", ALL_OPERATIONS)
def test_client_operation_validates(name: str) -> None:
    from graphql import parse

    errors = validate(build_schema()._schema, parse(operation(name)))
    if name in NOT_YET_SERVED:
        assert errors, f"{name} validates now: remove it from NOT_YET_SERVED"
    else:
        assert not errors, [e.message for e in errors]


def test_not_yet_served_names_real_operations() -> None:
    assert set(ALL_OPERATIONS) >= NOT_YET_SERVED
