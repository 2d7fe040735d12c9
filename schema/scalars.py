"""Shared value types: money with its currency."""

from __future__ import annotations

from decimal import Decimal

import strawberry


@strawberry.type(description="An amount of money; `amount` is a decimal string in major units.")
class Money:
    amount: Decimal
    currency: str


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; null or absent: the programme's currency."
    )


def money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=amount, currency=currency)
