"""The one place that reaches into graphql-core's internals: its executor, with each
selection's fields collected once per document.

To complete an object, graphql-core walks the field's selection set (its fragments, inline
fragments and directives) and groups the fields it finds by response key. It remembers
the answer for one execution only, so the same walk runs again on every request
(benchmarks/PROFILES.md §15 says what that costs).

This overrides `collect_subfields` of graphql-core's `ExecutionContext` (through
strawberry's subclass) and uses its `collect_fields` types, none of which graphql-core
promises to keep: an upgrade of either library is checked against tests/unit/
test_collected_once.py first.

For a document without directives the answer depends only on the document and the
object's type, never on the variables, so it is kept across requests. The parser cache
hands every request with the same text the same document, so its nodes are the key. A
document with a directive anywhere (`@skip(if: $x)`, `@include`, `@defer`) depends on
its variables and is collected per execution, as graphql-core does.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    BREAK,
    GraphQLObjectType,
    OperationDefinitionNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, FragmentDetails
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Operations whose collected fields are kept: as many as the parser cache keeps documents.
# Each entry keeps its document alive (its nodes are the keys), so this bounds the memory
# the executor holds however many different documents clients send.
KEPT_OPERATIONS = 512


class _FindsDirectives(Visitor):
    found = False

    def enter_directive(self, *_: Any) -> object:
        self.found = True
        return BREAK


def _without_directives(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDetails]
) -> bool:
    for node in (operation, *(f.definition for f in fragments.values())):
        finder = _FindsDirectives()
        visit(node.selection_set, finder)
        if finder.found:
            return False
    return True


@dataclass
class _Operation:
    """What is kept of one operation: its nodes, and the fields of its selections by
    (type, hide suggestions, id of each field node)."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    collected: dict[tuple[Any, ...], CollectedFields] | None  # None: it has directives


class _Lru(OrderedDict[int, _Operation]):
    def find(self, key: int) -> _Operation | None:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: int, value: _Operation) -> None:
        self[key] = value
        if len(self) > KEPT_OPERATIONS:
            self.popitem(last=False)


# id(operation) -> what is kept of it; the entry keeps the operation, so its id is not
# reused by another while the entry lives.
_kept = _Lru()


class CollectedOnceExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor; selections of documents without directives collected once."""

    _operation: _Operation | None = None

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        collected = self._kept_operation().collected
        if collected is None:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, self.hide_suggestions, *[id(d.node) for d in field_details_list])
        found = collected.get(key)
        if found is None:
            found = super().collect_subfields(return_type, field_details_list)
            if all(d.fragment_variable_values is None for d in field_details_list):
                collected[key] = found
        return found

    def _kept_operation(self) -> _Operation:
        if self._operation is None:
            operation = self.operation
            kept = _kept.find(id(operation))
            if kept is None:
                plain = _without_directives(operation, self.fragments)
                kept = _Operation(operation, self.fragments, {} if plain else None)
                _kept.keep(id(operation), kept)
            self._operation = kept
        return self._operation


def forget() -> None:
    """Drop everything kept (tests)."""
    _kept.clear()


def kept_selections() -> int:
    """How many selections' fields are kept, over all operations (tests)."""
    return sum(len(k.collected or ()) for k in _kept.values())


__all__ = ["CollectedOnceExecutionContext", "forget", "kept_selections"]
