"""The lean path of trusted documents: what depends only on the document, done once.

A document of the manifest (api/documents.py) is parsed, held to the token limit, validated
with every rule an ordinary request meets (the depth and alias limits, introspection off in
production) and looked over once, when the registry loads: its operation, its root fields,
whether a literal holds a NUL, and what its answer depends on of the caller. Its fields'
collection is kept by the executor across requests (schema/graphql_core_internals.py).

Per request only what depends on the request is left: the variables' NUL check, variable
coercion, execution (or a compiled plan, schema/plans.py, which leaves every failure to
the executor: an outage is then reported as the ordinary path reports it), and the errors
coded as `ErrorPolicy` codes them, timed as `Metrics` times them. A document that does not pass all
of this at load is not prepared, and runs the ordinary path with its per-request checks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    execute,
    parse,
    validate,
    visit,
)
from strawberry.execution import optimized_is_awaitable

from models.database_outage import database_unavailable
from schema.caller_dependence import CallerDependence, caller_dependence
from schema.errors import client_error, coded_error
from schema.graphql_core_internals import CollectedOnceExecutionContext
from schema.guards import NUL, holds_nul
from schema.metrics import ERRORS, OPERATION_SECONDS
from schema.root import Schema

log = logging.getLogger("pointsmall.graphql")

# A compiled plan: the answer's `data` from the context and the coerced variables, or None
# when the plan does not cover these variables (the executor answers instead).
Plan = Callable[[Any, Mapping[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class PreparedDocument:
    text: str
    document: DocumentNode
    operation: OperationDefinitionNode
    name: str | None
    kind: OperationType
    root_fields: tuple[str, ...]
    literal_nul: bool
    dependence: CallerDependence
    plan: Plan | None = None

    @property
    def is_mutation(self) -> bool:
        return self.kind is OperationType.MUTATION


def prepare(schema: Schema, text: str, *, plan: Plan | None = None) -> PreparedDocument | None:
    """The document made ready once, with its compiled plan if it has one; None when it
    fails any check an ordinary request meets (it then runs the ordinary path, which
    reports why)."""
    try:
        document = parse(text, max_tokens=schema.limits.max_tokens)
    except GraphQLError:
        return None
    if validate(schema._schema, document, list(schema.document_rules)):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is OperationType.SUBSCRIPTION:
        return None
    operation = operations[0]
    roots = tuple(
        s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
    )
    return PreparedDocument(
        text=text,
        document=document,
        operation=operation,
        name=operation.name.value if operation.name else None,
        kind=operation.operation,
        root_fields=roots,
        literal_nul=_literal_nul(document),
        dependence=caller_dependence(schema._schema, document, operation),
        plan=plan,
    )


def _literal_nul(document: DocumentNode) -> bool:
    found: list[bool] = []

    class Find(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: object) -> None:
            if NUL in node.value:
                found.append(True)

    visit(document, Find())
    return bool(found)


async def run_prepared(
    schema: Schema,
    prepared: PreparedDocument,
    variables: dict[str, Any] | None,
    context: Any,
    operation_extensions: dict[str, Any] | None = None,
) -> ExecutionResult:
    """What the ordinary path answers for this document, without its per-document steps."""
    started = time.perf_counter()
    if prepared.literal_nul or holds_nul(variables):
        error = client_error("Text must not contain NUL characters.", "INVALID_INPUT")
        result = ExecutionResult(data=None, errors=[error])
    else:
        result = await _execute(schema, prepared, variables, context, operation_extensions)
    if result.errors:
        result = ExecutionResult(result.data, [coded_error(e) for e in result.errors])
    root = prepared.root_fields[0] if result.data is not None else "invalid"
    OPERATION_SECONDS.labels(root, prepared.kind.value).observe(time.perf_counter() - started)
    for error in result.errors or ():
        ERRORS.labels(str((error.extensions or {}).get("code"))).inc()
    return result


async def _execute(
    schema: Schema,
    prepared: PreparedDocument,
    variables: dict[str, Any] | None,
    context: Any,
    operation_extensions: dict[str, Any] | None,
) -> ExecutionResult:
    if prepared.plan is not None:
        try:
            data = await prepared.plan(context, variables or {})
        except Exception as exc:  # the executor answers, errors coded as ever
            if not database_unavailable(exc):
                log.warning("the plan of %s failed; executed instead", prepared.name, exc_info=True)
            data = None
        if data is not None:
            return ExecutionResult(data=data)
    outcome = execute(
        schema._schema,
        prepared.document,
        variable_values=variables,
        context_value=context,
        executor_class=CollectedOnceExecutionContext,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        operation_extensions=operation_extensions,
    )
    if isinstance(outcome, ExecutionResult):
        return outcome
    finished: ExecutionResult = await outcome
    return finished
