"""GraphQL metrics: latency per operation, errors and business refusals by code."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

OPERATION_SECONDS = Histogram(
    "pointsmall_graphql_operation_seconds",
    "Time to execute a GraphQL operation, by operation name and type.",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter(
    "pointsmall_graphql_errors_total", "Top-level GraphQL errors, by extensions.code.", ["code"]
)
REFUSALS = Counter(
    "pointsmall_refusals_total", "Business refusals in mutation payloads, by code.", ["code"]
)
REDEMPTIONS = Counter(
    "pointsmall_redemptions_total",
    "Redemptions, by outcome (placed, replayed, refused).",
    ["outcome"],
)


class Metrics(SchemaExtension):
    """Times each operation under its first root field (`gifts`, `redeem`): a label set the
    schema bounds, unlike the client's free-text operationName."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        errors = getattr(context.result, "errors", None) or []
        OPERATION_SECONDS.labels(_root_field(context), _kind(context)).observe(
            time.perf_counter() - started
        )
        for error in errors:
            ERRORS.labels(
                str((error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED"))
            ).inc()


def _kind(context: ExecutionContext) -> str:
    try:
        return context.operation_type.value
    except Exception:  # strawberry raises when the document has no usable operation
        return "invalid"


def _root_field(context: ExecutionContext) -> str:
    document = context.graphql_document
    if document is None or getattr(context.result, "data", None) is None:
        return "invalid"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return selection.name.value
    return "invalid"
