"""The root types and the schema with its limits, caches and error policy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.aftersales.mutations import AftersalesMutations
from schema.aftersales.queries import AftersalesQueries
from schema.aftersales.resolutions import ResolutionMutations
from schema.aftersales.subscriptions import AftersalesSubscriptions
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.catalog.mutations import CatalogMutations
from schema.catalog.queries import CatalogQueries
from schema.context import Info
from schema.errors import ErrorPolicy
from schema.fulfilment.mutations import FulfilmentMutations
from schema.fulfilment.queries import FulfilmentQueries
from schema.fulfilment.subscriptions import FulfilmentSubscriptions
from schema.graphql_core_internals import CollectedOnceExecutionContext
from schema.guards import RefuseNulBytes
from schema.members.mutations import MemberMutations
from schema.members.queries import MemberQueries
from schema.metrics import Metrics
from schema.notifications.mutations import NotificationMutations
from schema.notifications.queries import NotificationQueries
from schema.notifications.subscriptions import NotificationSubscriptions
from schema.orders.mutations import OrderMutations
from schema.orders.queries import OrderQueries
from schema.points.mutations import PointsMutations
from schema.vouchers.mutations import VoucherMutations


@strawberry.type
class Query(
    MemberQueries,
    CatalogQueries,
    OrderQueries,
    FulfilmentQueries,
    NotificationQueries,
    AftersalesQueries,
):
    @strawberry.field(
        description="Any object by its global id; null if absent or not yours.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        try:
            global_id = relay.GlobalID.from_id(id)
        except relay.GlobalIDValueError:
            return None
        definition = info.schema.get_type_by_name(global_id.type_name)
        origin = getattr(definition, "origin", None)
        if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
            return None
        node: relay.Node | None = await global_id.resolve_node(info, required=False)
        return node


@strawberry.type
class Mutation(
    MemberMutations,
    CatalogMutations,
    OrderMutations,
    PointsMutations,
    FulfilmentMutations,
    NotificationMutations,
    AftersalesMutations,
    ResolutionMutations,
    VoucherMutations,
):
    pass


@strawberry.type
class Subscription(FulfilmentSubscriptions, NotificationSubscriptions, AftersalesSubscriptions):
    pass


@dataclass(frozen=True, eq=False)
class _Parsed:
    """A parsed document that hashes and compares as the text it was parsed from."""

    text: str
    document: DocumentNode

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Parsed) and other.text == self.text


@lru_cache(maxsize=512)
def _validated(
    schema: GraphQLSchema, parsed: _Parsed, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return validate_document(schema, parsed.document, rules)


class ValidationByText(ValidationCache):
    """`ValidationCache` keyed by the query's text rather than its parsed document.

    The same text always parses to the same document, so the answer is the same; but a
    document's hash walks every node of its syntax tree on each request, where a string's
    hash is computed once."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is None or context.graphql_document is None:
            yield from super().on_validate()
            return
        parsed = _Parsed(context.query, context.graphql_document)
        rules = tuple(context.validation_rules)
        context.pre_execution_errors = _validated(context.schema._schema, parsed, rules)
        yield


class CachedParser(ParserCache):
    """`ParserCache` that leaves a document it cannot parse to the schema's own parse.

    The cache raises a syntax error past every extension, so `ErrorPolicy` never saw it and
    the client got no `extensions.code`; parsed again by the schema, it is reported like any
    other refused request (`GRAPHQL_PARSE_FAILED`)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    introspection: bool = True


class Schema(strawberry.Schema):
    """Logs nothing itself: `ErrorPolicy` logs unexpected errors once, with their id."""

    # What every request's document is held to (set by `build_schema`): the lean path of
    # trusted documents (schema/prepared.py) applies the same once, when they load.
    limits: Limits = Limits()
    document_rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Queries and mutations only: a subscription is served by `subscribe` (websockets),
        and one posted over HTTP is refused (400) instead of running its resolver as a field."""
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        return await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed - {OperationType.SUBSCRIPTION},
            operation_extensions=operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(limits: Limits | None = None) -> Schema:
    """The schema with its limits; introspection off when `limits.introspection` is False."""
    limits = limits or Limits()
    # The limiters' rule classes are made once: `ValidationByText` keys on the rules, and a
    # limiter built per request brings a new class each time, so nothing would ever hit.
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        Metrics,  # first in, last out: it sees the errors ErrorPolicy has coded
        ErrorPolicy,
        RefuseNulBytes,
        lambda: CachedParser(maxsize=512),
        ValidationByText,
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not limits.introspection),
        execution_context_class=CollectedOnceExecutionContext,
    )
    schema.limits = limits
    schema.document_rules = (
        *specified_rules,
        *rules,
        *([] if limits.introspection else [NoSchemaIntrospectionCustomRule]),
    )
    return schema
