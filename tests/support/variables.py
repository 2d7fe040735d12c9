"""Generated variables for a client operation: values of each variable's own type, often
the world's real ones, sometimes hostile (for the fuzzer and the lean path's comparison)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    type_from_ast,
)
from hypothesis import strategies as st

EDGE_INTS = [0, 1, 2, 5, 20, 100, 101, -1, 2**31 - 1, -(2**31)]
EDGE_TEXT = ["", " ", "a\x00b", "x" * 300, "%_%", "\\", "🙂", "' OR '1'='1"]
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Int": st.one_of(st.sampled_from(EDGE_INTS), st.integers(-5, 200)),
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "Boolean": st.booleans(),
    "String": st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=12)),
    "ID": st.sampled_from(["", "@@", "R2lmdDox", "TWVtYmVyOjE=", "UG9pbnRzRW50cnk6MQ=="]),
    "Decimal": st.sampled_from(["NaN", "1e999", "-0", "0.001", "12.34", "10", "abc"]),
    "DateTime": st.sampled_from(
        ["2026-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "2030-06-01T12:00:00+08:00", "x"]
    ),
    "Date": st.sampled_from(["2026-01-01", "9999-12-31", "2026-02-30", ""]),
}


def variables_strategy(
    schema: GraphQLSchema, document: str, known: Mapping[str, Sequence[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Variables for the one operation of `document`; names in `known` often take one of
    its values. Optional variables are sometimes left out, and a value sometimes null."""
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    fields: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        assert type_ is not None
        strategy = _value(type_, name, known or {}, depth=0)  # type: ignore[arg-type]
        (fields if isinstance(type_, GraphQLNonNull) else optional)[name] = strategy
    return st.fixed_dictionaries(fields, optional=optional)


def _value(
    type_: GraphQLInputType, name: str, known: Mapping[str, Sequence[Any]], *, depth: int
) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLNonNull):
        return _plain(type_.of_type, name, known, depth=depth)
    return st.one_of(st.none(), _plain(type_, name, known, depth=depth))


def _plain(
    type_: GraphQLInputType, name: str, known: Mapping[str, Sequence[Any]], *, depth: int
) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        return st.lists(_value(type_.of_type, name, known, depth=depth + 1), max_size=3)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(sorted(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return st.just({})
        return st.fixed_dictionaries(
            {},
            optional={
                key: _value(field.type, key, known, depth=depth + 1)
                for key, field in type_.fields.items()
            },
        )
    assert isinstance(type_, GraphQLScalarType)
    own = SCALARS[type_.name]
    if name in known:
        return st.one_of(st.sampled_from(list(known[name])), own)
    return own
