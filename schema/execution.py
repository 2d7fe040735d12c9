"""graphql-core's executor, with each selection's fields collected once per document.

To complete an object, graphql-core walks the field's selection set (its fragments, inline
fragments and directives) and groups the fields it finds by response key. It remembers
the answer for one execution only, so the same walk runs again on every request: about a
tenth of a redemption's server time, more than the parse and validation the caches
already spare (benchmarks/PROFILES.md §15).

For a document without directives the answer depends only on the document and the
object's type, never on the variables, so it is kept across requests. The parser cache
hands every request with the same text the same document, so its nodes are the key. A
document with a directive anywhere (`@skip(if: $x)`, `@include`, `@defer`) depends on
its variables and is collected per execution, as graphql-core does.
"""

from __future__ import annotations

from collections import OrderedDict
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

# Object selections of the documents in the parser cache (512 documents of at most a few
# dozen object selections each): kept least-recently-used first, the oldest dropped.
KEPT_SELECTIONS = 20_000
KEPT_OPERATIONS = 1_024


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


class _Lru(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def find(self, key: Any) -> Any:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


# id(operation) -> (operation, without directives?): the operation is kept with its answer,
# so its id is not reused by another while the entry lives.
_plain: _Lru = _Lru(KEPT_OPERATIONS)
# (type, hide suggestions, id of each field node) -> (the field details, their fields):
# the details keep the nodes, and so their ids, alive while the entry lives.
_collected: _Lru = _Lru(KEPT_SELECTIONS)


class Executor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor; selections of documents without directives collected once."""

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        if not self._plain_document():
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, self.hide_suggestions, *[id(d.node) for d in field_details_list])
        kept = _collected.find(key)
        if kept is not None:
            return kept[1]  # type: ignore[no-any-return]
        collected = super().collect_subfields(return_type, field_details_list)
        if all(d.fragment_variable_values is None for d in field_details_list):
            _collected.keep(key, (field_details_list, collected))
        return collected

    def _plain_document(self) -> bool:
        operation = self.operation
        kept = _plain.find(id(operation))
        if kept is None:
            kept = (operation, _without_directives(operation, self.fragments))
            _plain.keep(id(operation), kept)
        return bool(kept[1])


def forget() -> None:
    """Drop everything kept (tests)."""
    _plain.clear()
    _collected.clear()


__all__ = ["Executor", "forget"]
