"""Top-up rules: the operator's day, the waits between tries, how a credit reads, and what a
TOP_UP gift and line allow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from api.settings import DEV_CHARGING_SECRET, Settings, SettingsError
from models.catalog.models import Gift, GiftKind
from models.errors import InvalidInput
from models.orders.rules import LineRequest, check_kinds
from models.topups import rules
from models.topups.ports import TopUpProduct

NOW = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # 01:30 on the 8th in Shanghai


def test_the_budget_counts_in_the_operators_day() -> None:
    assert rules.budget_day(NOW) == date(2026, 12, 8)
    assert rules.budget_day(NOW - timedelta(hours=2)) == date(2026, 12, 7)


def test_tries_wait_longer_each_time_but_never_past_the_promise() -> None:
    end = NOW + timedelta(minutes=10)
    waits = [rules.next_try(tried=n, now=NOW, deliver_by=end) - NOW for n in range(1, 8)]
    assert waits[:5] == list(rules.WAITS)
    assert waits[5:] == [rules.WAITS[-1]] * 2
    assert rules.next_try(tried=3, now=end - timedelta(seconds=3), deliver_by=end) == end


@pytest.mark.parametrize(
    ("product", "face_value", "zh", "en"),
    [
        (TopUpProduct.CREDIT, 1000, "10元话费", "¥10 of phone credit"),
        (TopUpProduct.CREDIT, 1050, "10.50元话费", "¥10.50 of phone credit"),
        (TopUpProduct.DATA, 1024, "1GB流量", "1GB of data"),
        (TopUpProduct.DATA, 500, "500MB流量", "500MB of data"),
    ],
)
def test_a_credit_reads_in_both_languages(
    product: TopUpProduct, face_value: int, zh: str, en: str
) -> None:
    assert rules.amount(product, face_value) == (zh, en)


def test_a_number_is_masked_in_messages() -> None:
    assert rules.masked("+8613800138000") == "+86138****8000"
    assert rules.masked("+861") == "+861"


def test_a_refusal_reads_by_its_code_and_an_unknown_code_still_reads() -> None:
    assert rules.refusal("NUMBER_NOT_IN_SERVICE")[1] == "the number is not in service"
    assert rules.refusal("SOMETHING_NEW")[1] == "the top-up did not go through"


def _gift(kind: GiftKind) -> Gift:
    return Gift(sku="TU-10", kind=kind, points_price=840, face_value=1000)


def test_a_top_up_line_is_one_credit_for_points_to_a_mobile_on_file() -> None:
    gifts = {"TU-10": _gift(GiftKind.TOP_UP)}
    check_kinds([LineRequest("TU-10", 1)], gifts, cash=None, mobile="+8613800138000")
    with pytest.raises(InvalidInput) as two:
        check_kinds([LineRequest("TU-10", 2)], gifts, cash=None, mobile="+8613800138000")
    assert two.value.field == "lines.0.quantity"
    with pytest.raises(InvalidInput, match="points only"):
        check_kinds([LineRequest("TU-10", 1)], gifts, cash=Decimal(1), mobile="+86138")
    with pytest.raises(InvalidInput, match="mobile"):
        check_kinds([LineRequest("TU-10", 1)], gifts, cash=None, mobile="")


def test_production_refuses_the_development_charging_secret_only_with_a_charging_system() -> None:
    real = {
        "app_env": "production",
        "database_url": "postgres://u@db/pointsmall",
        "database_url_set": True,
        "jwt_secret": "s" * 48,
        "stripe_api_key": "sk_live_x",
        "stripe_webhook_secret": "whsec_real",
        "voucher_keys": ("dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnY=",),
        "voucher_digest_key": "d" * 40,
    }
    Settings(**real).check()  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="CHARGING_SECRET"):
        Settings(**real, charging_url="https://cs.example/api").check()  # type: ignore[arg-type]
    Settings(**real, charging_url="https://cs.example/api", charging_secret="c" * 40).check()  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="CHARGING_URL"):
        Settings(charging_url="ftp://cs.example").check()
    assert Settings().charging_secret == DEV_CHARGING_SECRET
