"""Gift kinds: parcels, e-vouchers and top-ups in the catalog and the back office."""

from __future__ import annotations

from typing import Any

from fulfilment.models import ShipDay
from tests.support.catalog import ADDRESS, gift, small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token
from tests.support.members import member_with_points


async def digital_mall(api: GraphQLClient) -> None:
    await small_mall(api)
    await gift(
        api,
        "EV-COFFEE",
        900,
        name="Coffee e-voucher",
        kind="E_VOUCHER",
        partner="Luckin Coffee",
        instructions="Show the code at the counter",
    )
    await gift(api, "TU-10", 840, name="¥10 phone credit", kind="TOP_UP", face_value=1000)


async def upsert(api: GraphQLClient, **fields: Any) -> dict[str, Any]:
    base = {"sku": "EV-X", "name": "x", "categorySlug": "electronics", "pointsPrice": 100}
    result = await api.op("UpsertGift", {"input": {**base, **fields}}, auth=admin_token())
    return result.data["upsertGift"]  # type: ignore[no-any-return]


async def test_a_gift_is_a_parcel_unless_the_back_office_says_otherwise(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    mug = (await api.op("Gift", {"sku": "HM-MUG"})).data["gift"]
    assert (mug["kind"], mug["partner"], mug["instructions"]) == ("PHYSICAL", None, None)
    coffee = (await api.op("Gift", {"sku": "EV-COFFEE"})).data["gift"]
    assert coffee["kind"] == "E_VOUCHER"
    assert coffee["partner"] == "Luckin Coffee"
    assert coffee["instructions"] == "Show the code at the counter"
    top_up = (await api.op("Gift", {"sku": "TU-10"})).data["gift"]
    assert (top_up["kind"], top_up["partner"]) == ("TOP_UP", None)


async def test_a_digital_gift_promises_minutes_not_a_ship_date(api: GraphQLClient) -> None:
    await digital_mall(api)
    coffee = (await api.op("Gift", {"sku": "EV-COFFEE"})).data["gift"]["availability"]
    assert coffee["estimatedShipBy"] is None
    assert coffee["deliveredWithinMinutes"] == 10
    power_bank = (await api.op("Gift", {"sku": "EL-PB10K"})).data["gift"]["availability"]
    assert power_bank["estimatedShipBy"] is not None
    assert power_bank["deliveredWithinMinutes"] is None


async def test_the_catalog_filters_by_kind(api: GraphQLClient) -> None:
    await digital_mall(api)

    async def skus(filter: dict[str, object]) -> set[str]:
        page = (await api.op("Catalog", {"first": 20, "filter": filter})).data["gifts"]
        return {e["node"]["sku"] for e in page["edges"]}

    assert await skus({"kind": "E_VOUCHER"}) == {"EV-COFFEE"}
    assert await skus({"kind": "TOP_UP"}) == {"TU-10"}
    assert await skus({"kind": "PHYSICAL"}) == {"EL-PB10K", "EL-BUDS", "HM-MUG", "HM-TOWEL"}
    assert await skus({"kind": "E_VOUCHER", "categorySlug": "home"}) == set()
    assert len(await skus({})) == 6
    page = (await api.op("Catalog", {"first": 20, "filter": {"kind": "E_VOUCHER"}})).data
    assert page["gifts"]["edges"][0]["node"]["availability"]["estimatedShipBy"] is None


async def test_an_e_voucher_names_its_partner_and_only_an_e_voucher_does(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    nameless = await upsert(api, kind="E_VOUCHER")
    assert [(e["code"], e["field"]) for e in nameless["errors"]] == [("INVALID_INPUT", "partner")]
    parcel = await upsert(api, partner="Luckin Coffee")
    assert [(e["code"], e["field"]) for e in parcel["errors"]] == [("INVALID_INPUT", "partner")]
    top_up = await upsert(api, kind="TOP_UP", instructions="Dial *100#")
    assert [e["field"] for e in top_up["errors"]] == ["instructions"]
    long = await upsert(api, kind="E_VOUCHER", partner="P" * 101)
    assert [e["field"] for e in long["errors"]] == ["partner"]
    assert (await api.op("Gift", {"sku": "EV-X"}, auth=admin_token())).data["gift"] is None
    made = await upsert(api, kind="E_VOUCHER", partner="Luckin Coffee")
    assert made["errors"] == []
    assert (made["gift"]["kind"], made["gift"]["instructions"]) == ("E_VOUCHER", "")


async def test_a_stocked_parcel_keeps_its_kind_and_a_digital_gift_takes_no_units(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    changed = await upsert(api, sku="HM-MUG", kind="TOP_UP", faceValue=1000)
    assert [(e["code"], e["field"]) for e in changed["errors"]] == [("INVALID_INPUT", "kind")]
    mug = (await api.op("Gift", {"sku": "HM-MUG"})).data["gift"]
    assert (mug["kind"], mug["name"]) == ("PHYSICAL", "Thermos Mug")
    units = await api.op(
        "AdjustStock",
        {"input": {"sku": "TU-10", "warehouseCode": "SH01", "delta": 5, "reason": "receipt"}},
        auth=admin_token(),
    )
    payload = units.data["adjustStock"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "sku")]
    assert payload["stock"] is None
    # A parcel with no units left may become digital, and back.
    assert (await upsert(api, sku="HM-TOWEL", kind="TOP_UP", faceValue=1000))["errors"] == []
    assert (await upsert(api, sku="HM-TOWEL"))["errors"] == []


async def test_a_digital_line_books_no_ship_slot(api: GraphQLClient) -> None:
    await digital_mall(api)
    await member_with_points("C-DIGI", 5_000)
    slots_before = await ShipDay.all().count()
    result = await api.op(
        "Redeem",
        {
            "input": {
                "idempotencyKey": "digital-1",
                "lines": [{"sku": "EV-COFFEE", "quantity": 1}],
                "shippingAddress": ADDRESS,
            }
        },
        auth=member_token("C-DIGI"),
    )
    payload = result.data["redeem"]
    # No pool of codes yet: nothing to deliver, so nothing is taken at all.
    assert [e["code"] for e in payload["errors"]] == ["OUT_OF_STOCK"]
    assert payload["order"] is None
    assert await ShipDay.all().count() == slots_before
    me = (await api.op("Me", auth=member_token("C-DIGI"))).data["me"]
    assert me["points"]["available"] == 5_000


async def test_a_top_up_states_its_credit_and_only_a_top_up_has_one(api: GraphQLClient) -> None:
    await digital_mall(api)
    no_value = await upsert(api, sku="TU-X", kind="TOP_UP")
    assert [(e["code"], e["field"]) for e in no_value["errors"]] == [("INVALID_INPUT", "faceValue")]
    parcel = await upsert(api, sku="HM-X", faceValue=1000)
    assert [(e["code"], e["field"]) for e in parcel["errors"]] == [("INVALID_INPUT", "faceValue")]
    small = await upsert(api, sku="TU-X", kind="TOP_UP", faceValue=1000, dailyBudget=999)
    assert [(e["code"], e["field"]) for e in small["errors"]] == [("INVALID_INPUT", "dailyBudget")]
    data = await upsert(api, sku="TU-X", kind="TOP_UP", faceValue=2048, topUpProduct="DATA")
    assert data["gift"]["topUp"] == {"product": "DATA", "faceValue": 2048}
    top_up = (await api.op("Gift", {"sku": "TU-10"})).data["gift"]
    assert top_up["availability"]["quantityAvailable"] > 0
    assert top_up["availability"]["deliveredWithinMinutes"] == 10
