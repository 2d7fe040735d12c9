"""The requests of each comparison: the client operations verbatim, and the floor's twins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from api.auth import mint_token
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


def member(n: int) -> str:
    return f"M{n:07d}"


def tokens(path: Path, first: int, count: int) -> Path:
    """Member tokens for members `first`.. (`count` of them), one a line."""
    with path.open("w") as out:
        for n in range(first, first + count):
            out.write(mint_token(DEV_JWT_SECRET, role=Role.MEMBER, subject=member(n)) + "\n")
    return path


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

    def catalog(self) -> Path:
        body = graphql("Catalog", {"first": CATALOG_FIRST})
        return self._write("catalog.lua", load.static_post("/graphql", body, {}))

    def floor_catalog(self) -> Path:
        return self._write("floor-catalog.lua", load.static_get(f"/catalog?first={CATALOG_FIRST}"))

    def me(self) -> Path:
        body = load.lua_string(json.dumps(graphql("Me")))
        return self._write("me.lua", load.rotating("/graphql", body))

    def floor_me(self) -> Path:
        return self._write("floor-me.lua", load.rotating("/me", '""', method="GET"))

    def redeem(self) -> Path:
        template = graphql(
            "Redeem",
            {
                "input": {
                    "idempotencyKey": "__KEY__",
                    "lines": [{"sku": HOT_SKU, "quantity": 1}],
                    "shippingAddress": ADDRESS,
                }
            },
        )
        return self._write("redeem.lua", load.rotating("/graphql", load.redeem_body(template)))

    def floor_redeem(self) -> Path:
        template = {
            "idempotencyKey": "__KEY__",
            "sku": HOT_SKU,
            "quantity": 1,
            "shippingAddress": ADDRESS,
        }
        body = load.redeem_body(template)
        return self._write("floor-redeem.lua", load.rotating("/redeem", body))

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
