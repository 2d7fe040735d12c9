"""Which answers depend on the caller, said in the schema itself (`@callerDependent`).

A field whose answer depends on who asks carries the directive: on the field when it
always reads the caller (`me`, `node`, every mutation), on an argument or an input field
when giving it makes the field read the caller (`gifts(filter: {affordable: true})`).
`on: ADMIN` says the answer differs only between admins and everyone else (inactive
gifts); `on: IDENTITY`, that it may differ for every caller. Whoever shares one caller's
answer with another (api/catalog_cache.py) asks `caller_dependence` first, and
tests/unit/test_caller_dependence.py fails for a field that reads the caller unmarked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_input_type,
    type_from_ast,
    visit,
)
from strawberry.schema_directive import Location


@strawberry.enum(description="What of the caller an answer depends on.")
class CallerTrait(Enum):
    IDENTITY = strawberry.enum_value("IDENTITY", description="Who the caller is.")
    ADMIN = strawberry.enum_value("ADMIN", description="Only whether the caller is an admin.")


@strawberry.schema_directive(
    locations=[
        Location.FIELD_DEFINITION,
        Location.ARGUMENT_DEFINITION,
        Location.INPUT_FIELD_DEFINITION,
    ],
    description=(
        "The answer depends on the caller (on an argument or input field: once it is given);"
        " a shared cache serves it only to callers alike in `on`."
    ),
)
class CallerDependent:
    on: CallerTrait = CallerTrait.IDENTITY


DEPENDS_ON_CALLER = CallerDependent(on=CallerTrait.IDENTITY)
DEPENDS_ON_ADMIN = CallerDependent(on=CallerTrait.ADMIN)

Marked = GraphQLField | GraphQLArgument | GraphQLInputField


def mark(definition: Marked | None) -> CallerTrait | None:
    """The caller trait a field, argument or input field is marked with, if any."""
    found = (definition.extensions or {}).get("strawberry-definition") if definition else None
    for directive in getattr(found, "directives", None) or ():
        if isinstance(directive, CallerDependent):
            return directive.on
    return None


@dataclass(frozen=True)
class CallerDependence:
    """What an operation's answer depends on of the caller: what its text names, and the
    variables whose values may name a marked input field (`$filter: GiftFilter`)."""

    traits: frozenset[CallerTrait]
    watched: tuple[tuple[str, GraphQLInputType], ...] = ()

    def with_variables(self, variables: Mapping[str, object]) -> frozenset[CallerTrait]:
        """The traits once the request's variable values are known."""
        traits = set(self.traits)
        for name, type_ in self.watched:
            if name in variables:
                traits |= _traits_in_value(variables[name], type_)
        return frozenset(traits)


def caller_dependence(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> CallerDependence:
    """What `operation` of `document` depends on of the caller: every field, argument and
    input field it names (in its fragments too, inline or not) and its variables' defaults."""
    type_info = TypeInfo(schema)
    finder = _FindMarks(type_info)
    for definition in (operation, *_fragments(document)):
        visit(definition, TypeInfoVisitor(type_info, finder))
    watched = []
    for variable in operation.variable_definitions or ():
        type_ = type_from_ast(schema, variable.type)
        if is_input_type(type_) and can_hold_marks(type_, set()):
            watched.append((variable.variable.name.value, type_))
    return CallerDependence(frozenset(finder.traits), tuple(watched))


def _fragments(document: DocumentNode) -> list[FragmentDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]


class _FindMarks(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.traits: set[CallerTrait] = set()

    def _note(self, definition: Marked | None) -> None:
        if (trait := mark(definition)) is not None:
            self.traits.add(trait)

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self._note(self.type_info.get_field_def())

    def enter_argument(self, *_: Any) -> None:
        self._note(self.type_info.get_argument())

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        if isinstance(parent, GraphQLInputObjectType):
            self._note(parent.fields.get(node.name.value))


def can_hold_marks(type_: GraphQLInputType, seen: set[str]) -> bool:
    """Whether a value of `type_` can hold a marked input field, at any depth."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return False
    seen.add(named.name)
    return any(
        mark(field) is not None or can_hold_marks(field.type, seen)
        for field in named.fields.values()
    )


def _traits_in_value(value: object, type_: GraphQLInputType) -> set[CallerTrait]:
    """The traits of the marked input fields a variable's value gives (walked without
    recursion: the JSON may nest as deep as the parser allowed)."""
    traits: set[CallerTrait] = set()
    pending: list[tuple[object, Any]] = [(value, type_)]
    while pending:
        item, expected = pending.pop()
        while isinstance(expected, GraphQLNonNull):
            expected = expected.of_type
        if isinstance(expected, GraphQLList):
            items = item if isinstance(item, list) else [item]
            pending.extend((each, expected.of_type) for each in items)
        elif isinstance(expected, GraphQLInputObjectType) and isinstance(item, dict):
            for key, given in item.items():
                field = expected.fields.get(key)
                if field is None:
                    continue
                if (trait := mark(field)) is not None:
                    traits.add(trait)
                pending.append((given, field.type))
    return traits
