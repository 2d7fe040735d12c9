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
    # The member's contact: a mobile in E.164 ('' for none), the language messages are
    # written in, and the kinds of message turned off (`,KIND,KIND,`; see members.rules).
    # Database defaults too, so rows written before these columns (and any INSERT that
    # names none of them) read as a member with no mobile, in Chinese, with nothing off.
    mobile = fields.CharField(max_length=20, default="", db_default="", db_index=True)
    language = fields.CharField(max_length=8, default="zh-CN", db_default="zh-CN")
    opt_outs = fields.CharField(max_length=500, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "member"
