"""Talking GraphQL in tests: tokens, the client operations of tests/clients, responses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

from api.auth import mint_token
from api.settings import DEV_JWT_SECRET
from models.actors import Role

CLIENTS = Path(__file__).resolve().parent.parent / "clients"


def token(role: str, sub: str, warehouses: tuple[str, ...] = (), ttl: int = 3600) -> str:
    return mint_token(
        DEV_JWT_SECRET, role=Role(role), subject=sub, warehouses=warehouses, ttl_seconds=ttl
    )


def member_token(sub: str) -> str:
    return token("member", sub)


def admin_token() -> str:
    return token("admin", "admin-1")


def staff_token(*warehouses: str) -> str:
    return token("warehouse", "staff-1", warehouses)


@cache
def client_documents() -> dict[str, DocumentNode]:
    """Each client file of tests/clients, parsed, keyed by its stem (admin, member...)."""
    return {path.stem: parse(path.read_text()) for path in sorted(CLIENTS.glob("*.graphql"))}


@cache
def operation(name: str) -> str:
    """The text of one client operation and the fragments it uses."""
    for document in client_documents().values():
        ops = {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.name
        }
        if name in ops:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            needed = _fragments_used(ops[name], fragments)
            return "\n\n".join(print_ast(node) for node in [ops[name], *needed])
    raise KeyError(f"no client operation named {name}")


def _fragments_used(
    node: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    seen: dict[str, FragmentDefinitionNode] = {}
    pending: list[Any] = [node]
    while pending:
        for name in _spreads(pending.pop()):
            if name not in seen:
                seen[name] = fragments[name]
                pending.append(fragments[name])
    return list(seen.values())


def _spreads(node: Any) -> list[str]:
    names: list[str] = []

    class Collect(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names.append(spread.name.value)

    visit(node, Collect())
    return names


@dataclass
class Result:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        assert self.body.get("errors") is None, self.body["errors"]
        data: dict[str, Any] = self.body["data"]
        return data

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors") or []]


class GraphQLClient:
    """POSTs GraphQL to /graphql over any httpx client (in-process or real HTTP)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def query(
        self, document: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> Result:
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        response = await self.http.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
        return Result(response.status_code, response.json())

    async def op(
        self, name: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> Result:
        """Send the client operation `name` exactly as the frontends write it."""
        return await self.query(operation(name), variables, auth=auth)
