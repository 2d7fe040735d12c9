"""The executor collects a selection's fields once per document, and only where that is
the same answer for every request: not where directives make it depend on variables."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.extensions import ParserCache

from schema import graphql_core_internals
from schema.graphql_core_internals import CollectedOnceExecutionContext
from schema.root import build_schema


@strawberry.interface
class Parcel:
    code: str


@strawberry.type
class Box(Parcel):
    width: int


@strawberry.type
class Envelope(Parcel):
    sealed: bool


@strawberry.type
class Shipment:
    number: str
    carrier: str

    @strawberry.field
    def parcels(self) -> list[Parcel]:
        return [Box(code="B1", width=30), Envelope(code="E1", sealed=True), Box(code="B2", width=9)]


@strawberry.type
class Query:
    @strawberry.field
    def shipment(self) -> Shipment:
        return Shipment(number="S-1", carrier="SF")


# The parser cache hands every request with the same text the same document, as the
# service's schema does.
SCHEMA = strawberry.Schema(
    query=Query,
    types=[Box, Envelope],
    execution_context_class=CollectedOnceExecutionContext,
    extensions=[lambda: ParserCache(maxsize=8)],
)

BY_TYPE = """
query ByType {
  shipment {
    number
    parcels { code ...BoxFields ... on Envelope { sealed } }
  }
}
fragment BoxFields on Box { width }
"""

CONDITIONAL = """
query Conditional($withCarrier: Boolean!) {
  shipment { number carrier @include(if: $withCarrier) }
}
"""


def test_each_type_of_a_list_gets_its_own_fields_every_time() -> None:
    graphql_core_internals.forget()
    expected = {
        "shipment": {
            "number": "S-1",
            "parcels": [
                {"code": "B1", "width": 30},
                {"code": "E1", "sealed": True},
                {"code": "B2", "width": 9},
            ],
        }
    }
    for _ in range(2):
        result = SCHEMA.execute_sync(BY_TYPE)
        assert result.errors is None
        assert result.data == expected
    assert graphql_core_internals.kept_selections() == 3  # the shipment, a Box, an Envelope


def test_a_document_with_directives_is_collected_per_request() -> None:
    graphql_core_internals.forget()
    with_carrier = SCHEMA.execute_sync(CONDITIONAL, variable_values={"withCarrier": True})
    without = SCHEMA.execute_sync(CONDITIONAL, variable_values={"withCarrier": False})
    assert with_carrier.data == {"shipment": {"number": "S-1", "carrier": "SF"}}
    assert without.data == {"shipment": {"number": "S-1"}}
    assert graphql_core_internals.kept_selections() == 0


async def test_the_service_schema_answers_a_repeated_query_the_same_from_what_it_kept() -> None:
    graphql_core_internals.forget()
    schema = build_schema()
    query = '{ __type(name: "Gift") { name fields { name type { name kind } } } }'
    first = await schema.execute(query)
    kept = graphql_core_internals.kept_selections()
    second = await schema.execute(query)
    assert first.errors is None
    assert second.errors is None
    assert second.data == first.data
    assert kept > 0
    assert graphql_core_internals.kept_selections() == kept  # the second request found it all kept


def test_only_the_latest_operations_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kept operation keeps its document alive: a client sending ever new documents
    cannot make the executor hold more than `KEPT_OPERATIONS` of them."""
    graphql_core_internals.forget()
    monkeypatch.setattr(graphql_core_internals, "KEPT_OPERATIONS", 3)
    for n in range(5):
        result = SCHEMA.execute_sync(f"query Q{n} {{ shipment {{ number }} }}")
        assert result.data == {"shipment": {"number": "S-1"}}
    assert len(graphql_core_internals._kept) == 3
    assert graphql_core_internals.kept_selections() == 3
