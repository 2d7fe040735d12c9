"""Which fields of a schema read the caller, found from their resolvers' source, and
which carry the `@callerDependent` mark (tests/unit/test_caller_dependence.py)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, get_named_type

from schema.caller_dependence import can_hold_marks, mark

# What of `info.context` is the caller: who they are, why their token failed, their
# request (headers, address) and their websocket's connection parameters.
CALLER_ATTRIBUTES = frozenset({"actor", "auth_failure", "request", "connection_params"})


class CallerReads:
    """Whether a resolver reads the caller: it touches one of `CALLER_ATTRIBUTES`, itself
    or through a function of `modules` it calls (the GraphQL layer: the domain receives
    the caller only as an argument a resolver read)."""

    def __init__(self, modules: tuple[str, ...] = ("schema.",)) -> None:
        self.modules = modules
        self._known: dict[object, bool] = {}

    def function(self, func: Any, owner: type | None = None) -> bool:
        func = inspect.unwrap(getattr(func, "__func__", func))
        if func not in self._known:
            self._known[func] = False  # a call cycle reads nothing new
            self._known[func] = self._scan(func, owner)
        return self._known[func]

    def _scan(self, func: Any, owner: type | None) -> bool:
        if not str(getattr(func, "__module__", "")).startswith(self.modules):
            return False
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        except (OSError, TypeError):
            return False
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in CALLER_ATTRIBUTES:
                return True
            if any(self.function(f, owner) for f in self._called(node, func, owner)):
                return True
        return False

    def _called(self, node: ast.AST, func: Any, owner: type | None) -> Iterator[Any]:
        names = getattr(func, "__globals__", {})
        if isinstance(node, ast.Name):
            found = names.get(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base = owner if node.value.id in {"self", "cls"} else names.get(node.value.id)
            found = getattr(base, node.attr, None) if base is not None else None
        else:
            return
        if inspect.isfunction(found) or inspect.ismethod(found):
            yield found


def strawberry_definition(definition: Any) -> Any:
    return (definition.extensions or {}).get("strawberry-definition")


def fields(schema: GraphQLSchema) -> Iterator[tuple[str, Any, GraphQLObjectType]]:
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for name, field in named.fields.items():
                yield f"{named.name}.{name}", field, named


def reads_the_caller(schema: GraphQLSchema, reads: CallerReads) -> set[str]:
    """The fields whose resolution reads the caller: a permission class (each decides by
    the caller), the resolver, or for a `Node` field any node type's `resolve_nodes`."""
    node_readers = {
        implementation.name
        for interface in schema.type_map.values()
        if isinstance(interface, GraphQLInterfaceType) and interface.name == "Node"
        for implementation in schema.get_implementations(interface).objects
        if reads.function(
            strawberry_definition(implementation).origin.resolve_nodes,
            strawberry_definition(implementation).origin,
        )
    }
    found = set()
    for name, field, parent in fields(schema):
        definition = strawberry_definition(field)
        owner = strawberry_definition(parent).origin
        resolver = definition.base_resolver
        if (
            definition.permission_classes
            or (resolver is not None and reads.function(resolver.wrapped_func, owner))
            or (get_named_type(field.type).name == "Node" and node_readers)
        ):
            found.add(name)
    return found


def marked(schema: GraphQLSchema) -> set[str]:
    """The fields marked themselves, or through an argument or input field they take."""
    return {
        name
        for name, field, _ in fields(schema)
        if mark(field) is not None
        or any(mark(a) is not None or can_hold_marks(a.type, set()) for a in field.args.values())
    }
