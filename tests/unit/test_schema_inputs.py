"""Optional inputs are nullable: a client may send null for anything it may leave out."""

from __future__ import annotations

from graphql import (
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_non_null_type,
)
from graphql.type.definition import GraphQLArgument, GraphQLInputField

from schema.root import build_schema


def inputs(schema: GraphQLSchema) -> dict[str, GraphQLArgument | GraphQLInputField]:
    """Every input field and field argument of the schema, by `Type.field` or `Type.field(arg)`."""
    found: dict[str, GraphQLArgument | GraphQLInputField] = {}
    for named in schema.type_map.values():
        if named.name.startswith("__"):
            continue
        if isinstance(named, GraphQLInputObjectType):
            found.update({f"{named.name}.{n}": f for n, f in named.fields.items()})
        elif isinstance(named, GraphQLObjectType):
            for name, field in named.fields.items():
                found.update({f"{named.name}.{name}({a})": arg for a, arg in field.args.items()})
    return found


def has_default(value: GraphQLArgument | GraphQLInputField) -> bool:
    # A schema built from code keeps its defaults as values, one built from SDL as literals.
    return value.default_value is not Undefined or value.default is not None


def required_with_a_default(schema: GraphQLSchema) -> list[str]:
    return sorted(
        name
        for name, value in inputs(schema).items()
        if is_non_null_type(value.type) and has_default(value)
    )


def test_no_input_is_both_non_null_and_optional() -> None:
    assert required_with_a_default(build_schema()._schema) == []


def test_the_check_notices_a_non_null_input_with_a_default() -> None:
    from graphql import build_schema as from_sdl

    schema = from_sdl(
        'input I { a: String! = "" b: String } type Query { q(i: I, n: Int! = 1): Int }'
    )
    assert required_with_a_default(schema) == ["I.a", "Query.q(n)"]
