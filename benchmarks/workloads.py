"""The requests of each comparison: the client operations verbatim, and the floor's twins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from api.auth import mint_token
from api.documents import document_id
from api.settings import DEV_JWT_SECRET
from benchmarks import load
from benchmarks.ceiling import REDEEM as CEILING_REDEEM
from benchmarks.sizes import HOT_SKU, Sizes
from models.actors import Role
from tests.support.graphql import operation

ADDRESS = {
    "recipient": "Li Lei",
    "phone": "+86 138 0013 8000",
    "province": "Shanghai",
    "city": "Shanghai",
    "district": "Jiading",
    "line1": "88 Campaign Road",
    "line2": "",
    "postalCode": "201800",
}
CATALOG_FIRST = 20


def graphql(name: str, variables: dict[str, object] | None = None) -> dict[str, object]:
    return {"query": operation(name), "variables": variables or {}, "operationName": name}


def by_id(name: str, variables: dict[str, object] | None = None) -> dict[str, object]:
    """The request by trusted id, as a persisted-documents client sends it."""
    return {
        "documentId": document_id(operation(name)),
        "variables": variables or {},
        "operationName": name,
    }


def adhoc(name: str, variables: dict[str, object] | None = None) -> dict[str, object]:
    """The client's text with a newline added: no trusted document, the ordinary path."""
    return {**graphql(name, variables), "query": operation(name) + "\n"}


def get_path(body: dict[str, object]) -> str:
    """`/graphql?...`: a request's parameters as a GET's query string."""
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    return "/graphql?" + urlencode(params)


def member(n: int) -> str:
    return f"M{n:07d}"


def tokens(path: Path, first: int, count: int) -> Path:
    """Member tokens for members `first`.. (`count` of them), one a line."""
    with path.open("w") as out:
        for n in range(first, first + count):
            out.write(mint_token(DEV_JWT_SECRET, role=Role.MEMBER, subject=member(n)) + "\n")
    return path


# How a request names its document: its text (a trusted document's exact text), its
# trusted id, or a text that is no trusted document (the ordinary path).
FORMS = {"text": graphql, "id": by_id, "adhoc": adhoc}


@dataclass(frozen=True)
class Scripts:
    """Lua scripts and token files of one run, written into `directory`."""

    directory: Path
    sizes: Sizes

    def _write(self, name: str, text: str) -> Path:
        path = self.directory / name
        path.write_text(text)
        return path

    @property
    def half(self) -> int:
        return self.sizes.members // 2

    def member_range(self, *, floor: bool) -> tuple[int, int]:
        """Members who redeem: the service's and the floor's are different people."""
        count = min(self.sizes.tokens, self.half - 1)
        return (self.half + 1 if floor else 2), count

    def token_file(self, name: str, *, floor: bool = False) -> Path:
        path = self.directory / f"{name}.tokens"
        if not path.exists():
            first, count = self.member_range(floor=floor)
            tokens(path, first, count)
        return path

    def catalog(self, form: str = "text") -> Path:
        body = FORMS[form]("Catalog", {"first": CATALOG_FIRST})
        return self._write(f"catalog-{form}.lua", load.static_post("/graphql", body, {}))

    def affordable(self, form: str = "id") -> Path:
        """A member's own page (`affordable`): no shared answer, a member each request."""
        variables = {"first": CATALOG_FIRST, "filter": {"affordable": True}}
        body = load.lua_string(json.dumps(FORMS[form]("Catalog", variables)))
        return self._write(f"affordable-{form}.lua", load.rotating("/graphql", body))

    def floor_affordable(self) -> Path:
        path = f"/catalog?first={CATALOG_FIRST}&affordable=1"
        return self._write("floor-affordable.lua", load.rotating(path, '""', method="GET"))

    def revalidate(self, path: str, tag: str) -> Path:
        """A repeated GET with the tag of the answer it has: 304s are the good answers."""
        return self._write("revalidate.lua", load.revalidating(path, tag))

    def floor_catalog(self) -> Path:
        return self._write("floor-catalog.lua", load.static_get(f"/catalog?first={CATALOG_FIRST}"))

    def me(self, form: str = "text") -> Path:
        body = load.lua_string(json.dumps(FORMS[form]("Me")))
        return self._write(f"me-{form}.lua", load.rotating("/graphql", body))

    def floor_me(self) -> Path:
        return self._write("floor-me.lua", load.rotating("/me", '""', method="GET"))

    def redeem(self, form: str = "text", sku: str = HOT_SKU) -> Path:
        template = FORMS[form](
            "Redeem",
            {
                "input": {
                    "idempotencyKey": "__KEY__",
                    "lines": [{"sku": sku, "quantity": 1}],
                    "shippingAddress": ADDRESS,
                }
            },
        )
        body = load.redeem_body(template)
        return self._write(f"redeem-{form}-{sku}.lua", load.rotating("/graphql", body))

    def floor_redeem(self, sku: str = HOT_SKU, path: str = "/redeem") -> Path:
        template = {
            "idempotencyKey": "__KEY__",
            "sku": sku,
            "quantity": 1,
            "shippingAddress": ADDRESS,
        }
        body = load.redeem_body(template)
        return self._write(f"floor-redeem-{sku}.lua", load.rotating(path, body))

    def ceiling_redeem(self) -> Path:
        template: dict[str, object] = {
            "query": CEILING_REDEEM,
            "variables": {
                "input": {
                    "idempotencyKey": "__KEY__",
                    "lines": [{"sku": HOT_SKU, "quantity": 1}],
                    "shippingAddress": ADDRESS,
                }
            },
        }
        body = load.redeem_body(template)
        return self._write("ceiling-redeem.lua", load.rotating("/graphql", body))

    def mixed(self) -> Path:
        """One request in twenty is a redemption; the rest are the member app's reads."""
        reads = [
            *[graphql("Catalog", {"first": CATALOG_FIRST})] * 6,
            graphql(
                "Catalog",
                {"first": CATALOG_FIRST, "sortBy": "POINTS_ASC", "filter": {"inStock": True}},
            ),
            graphql("Catalog", {"first": 10, "filter": {"categorySlug": "category-3"}}),
            *[graphql("Me")] * 4,
            *[graphql("MyOrders", {"first": 10})] * 3,
            graphql("Gift", {"sku": "GIFT-00042"}),
            graphql("Gift", {"sku": HOT_SKU}),
            graphql("Categories"),
            graphql("PointsHistory", {"first": 20}),
        ]
        redeem = graphql(
            "Redeem",
            {
                "input": {
                    "idempotencyKey": "__KEY__",
                    "lines": [{"sku": HOT_SKU, "quantity": 1}],
                    "shippingAddress": ADDRESS,
                }
            },
        )
        table = ",\n".join(load.lua_string(json.dumps(body)) for body in reads)
        text = (
            load.COUNTING
            + load.ROTATING
            + f"""
bodies = {{
{table}
}}
function request()
  local headers = {{["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. token()}}
  local slot = n % (#bodies + 1)
  local body = bodies[slot]
  if slot == 0 then body = {load.redeem_body(redeem)} end
  return wrk.format("POST", "/graphql", headers, body)
end
"""
        )
        return self._write("mixed.lua", text)
