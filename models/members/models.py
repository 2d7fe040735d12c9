"""The member table."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Tier(StrEnum):
    STANDARD = "STANDARD"
    SILVER = "SILVER"
    GOLD = "GOLD"
    DIAMOND = "DIAMOND"


class Member(Model):
    """A member: `external_id` is the operator's customer number (the JWT `sub`)."""

    id = fields.BigIntField(primary_key=True)
    external_id = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=100, default="")
    tier = fields.CharEnumField(Tier, max_length=16, default=Tier.STANDARD)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "member"
