"""Every field that reads the caller says so in the schema (`@callerDependent`), and what
an operation depends on of the caller is read from the marks, wherever the operation
names them: fields, arguments, input fields, fragments, variables."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import OperationDefinitionNode, parse
from strawberry.permission import BasePermission

from schema.caller_dependence import DEPENDS_ON_CALLER, CallerTrait, caller_dependence
from schema.context import Info
from schema.root import build_schema
from tests.support.caller_reads import CallerReads, marked, reads_the_caller

SCHEMA = build_schema()._schema


def test_every_field_that_reads_the_caller_is_marked_and_no_other() -> None:
    reading, marks = reads_the_caller(SCHEMA, CallerReads()), marked(SCHEMA)
    assert sorted(reading - marks) == [], "read the caller but are not marked"
    assert sorted(marks - reading) == [], "marked but do not read the caller"


def test_the_walk_finds_the_callers_reads_it_must_find() -> None:
    reading = reads_the_caller(SCHEMA, CallerReads())
    assert {
        "Query.me",  # through require_role
        "Query.gift",  # info.context.actor, for inactive gifts
        "Query.gifts",  # only with `affordable`
        "Query.node",  # through the node types' resolve_nodes
        "Query.member",  # a permission class
        "Mutation.redeem",
        "Subscription.orderUpdated",
    } <= reading
    assert {"Query.categories", "Gift.availability", "RedemptionOrder.atRisk"}.isdisjoint(reading)


# A small schema of its own shows the walk catches an unmarked field however it reads
# the caller: directly, through a helper, through a method, through a permission.
def _whose(info: Info) -> str:
    return info.context.actor.subject if info.context.actor else ""


class _Anyone(BasePermission):
    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


@strawberry.type
class _Query:
    @strawberry.field
    def direct(self, info: Info) -> str:
        return "admin" if info.context.actor else "guest"

    @strawberry.field
    def helper(self, info: Info) -> str:
        return _whose(info)

    @strawberry.field
    def method(self, info: Info) -> str:
        return self._mine(info)

    @strawberry.field(permission_classes=[_Anyone])
    def guarded(self) -> str:
        return ""

    @strawberry.field(directives=[DEPENDS_ON_CALLER])
    def marked(self, info: Info) -> str:
        return _whose(info)

    @strawberry.field
    def plain(self, info: Info) -> str:
        return str(info.context.now())

    def _mine(self, info: Info) -> str:
        return _whose(info)


def test_the_walk_reports_unmarked_fields_that_read_the_caller() -> None:
    schema = strawberry.Schema(query=_Query)._schema
    reading = reads_the_caller(schema, CallerReads(modules=(__name__,)))
    assert reading - marked(schema) == {
        "Query.direct",
        "Query.helper",
        "Query.method",
        "Query.guarded",
    }


def dependence(query: str, variables: dict[str, Any] | None = None) -> set[CallerTrait]:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    found = caller_dependence(SCHEMA, document, operation)
    return set(found.with_variables(variables or {}))


IDENTITY, ADMIN = CallerTrait.IDENTITY, CallerTrait.ADMIN
GIFTS = "query($f: GiftFilter) { gifts(first: 5, filter: $f) { totalCount } }"
DEFAULTED = (
    "query($f: GiftFilter = {affordable: true}) { gifts(first: 1, filter: $f) { totalCount } }"
)
BOTH = '{ gifts(first: 1) { totalCount } gift(sku: "A") { ...G } } fragment G on Gift { name }'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ categories { slug } gifts(first: 5) { totalCount } }", set()),
        ('{ gift(sku: "A") { sku } }', {ADMIN}),
        ("{ me { externalId } }", {IDENTITY}),
        ("{ gifts(first: 5, filter: {affordable: true}) { totalCount } }", {IDENTITY}),
        ("{ gifts(first: 5, filter: {affordable: false}) { totalCount } }", {IDENTITY}),
        ("{ ...F } fragment F on Query { me { externalId } }", {IDENTITY}),
        ('{ ... on Query { node(id: "x") { id } } }', {IDENTITY}),
        (DEFAULTED, {IDENTITY}),
        (BOTH, {ADMIN}),
    ],
)
def test_an_operation_depends_on_what_it_names(query: str, expected: set[CallerTrait]) -> None:
    assert dependence(query) == expected


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, set()),
        ({"f": None}, set()),
        ({"f": {"categorySlug": "home", "search": "affordable"}}, set()),
        ({"f": {"affordable": True}}, {IDENTITY}),
        ({"f": {"affordable": None}}, {IDENTITY}),
    ],
)
def test_variables_that_give_a_marked_input_field_count(
    variables: dict[str, Any], expected: set[CallerTrait]
) -> None:
    assert dependence(GIFTS, variables) == expected


def test_only_variables_that_can_hold_a_mark_are_watched() -> None:
    document = parse(
        "query($first: Int!, $f: GiftFilter) { gifts(first: $first, filter: $f) { totalCount } }"
    )
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    watched = caller_dependence(SCHEMA, document, operation).watched
    assert [name for name, _ in watched] == ["f"]


@strawberry.type(name="Item")
class _Item:
    sku: str

    @strawberry.field(directives=[DEPENDS_ON_CALLER])
    def mine(self, info: Info) -> int:
        return 0 if info.context.actor is None else 1


@strawberry.type(name="Query")
class _Shelf:
    @strawberry.field
    def items(self) -> list[_Item]:
        return [_Item(sku="A")]


@pytest.mark.parametrize(
    "query",
    [
        "{ items { sku mine } }",
        "{ items { ... on Item { mine } } }",
        "{ items { ...Mine } } fragment Mine on Item { mine }",
    ],
)
def test_a_marked_field_deep_under_a_public_one_counts(query: str) -> None:
    schema = strawberry.Schema(query=_Shelf)._schema
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert caller_dependence(schema, document, operation).traits == {IDENTITY}
