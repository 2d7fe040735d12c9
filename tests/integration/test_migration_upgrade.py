"""A database made by the previous release, with members in it, upgrades in place."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate

from api.db import tortoise_config
from models.catalog.models import Gift, GiftKind
from models.members.models import Member
from models.notifications.models import Notification, PushStatus, SmsStatus
from tests.support.databases import fresh_database


async def test_members_of_the_previous_release_keep_their_data_and_get_default_contacts(
    tmp_path: Path, orm: str
) -> None:
    async with fresh_database(tmp_path) as url:
        config = tortoise_config(url)
        await migrate(config=config, target="pointsmall.0001_initial")
        await Tortoise.init(config=config, _create_db=False)
        try:
            connection = connections.get("default")
            await connection.execute_query(
                "INSERT INTO member (external_id, display_name, tier, created_at, updated_at) "
                "VALUES ('OLD-1', 'Old Member', 'GOLD', '2026-01-01 00:00:00+00:00', "
                "'2026-01-01 00:00:00+00:00')"
            )
            await Tortoise.close_connections()
            await migrate(config=config)
            await Tortoise.init(config=config)
            member = await Member.get(external_id="OLD-1")
            assert (member.display_name, member.tier) == ("Old Member", "GOLD")
            assert (member.mobile, member.language, member.opt_outs) == ("", "zh-CN", "")
            # A statement that names none of the new columns still writes a whole member.
            await connections.get("default").execute_query(
                "INSERT INTO member (external_id, display_name, tier, created_at, updated_at) "
                "VALUES ('NEW-1', '', 'STANDARD', '2026-01-01 00:00:00+00:00', "
                "'2026-01-01 00:00:00+00:00')"
            )
            assert (await Member.get(external_id="NEW-1")).language == "zh-CN"
        finally:
            await Tortoise.close_connections()
            await Tortoise.init(config=tortoise_config(orm))  # the session's database again


async def test_messages_of_the_previous_release_are_never_pushed_after_the_upgrade(
    tmp_path: Path, orm: str
) -> None:
    async with fresh_database(tmp_path) as url:
        config = tortoise_config(url)
        await migrate(config=config, target="pointsmall.0002_notifications")
        await Tortoise.init(config=config, _create_db=False)
        try:
            connection = connections.get("default")
            await connection.execute_query(
                "INSERT INTO member (external_id, display_name, tier, created_at, updated_at) "
                "VALUES ('OLD-2', '', 'STANDARD', '2026-01-01 00:00:00+00:00', "
                "'2026-01-01 00:00:00+00:00')"
            )
            await connection.execute_query(
                "INSERT INTO notification (member_id, kind, dedupe_key, data, body, created_at, "
                "sms_to, sms_status, sms_urgent, sms_attempts, sms_message_id, sms_parts, "
                "sms_error, answer) SELECT id, 'ORDER_DELIVERED', 'old:1', '{}', '', "
                "'2026-01-01 00:00:00+00:00', '', 'DELIVERED', FALSE, 1, 'X1', 1, '', '' "
                "FROM member WHERE external_id = 'OLD-2'"
            )
            await Tortoise.close_connections()
            await migrate(config=config)
            await Tortoise.init(config=config)
            old = await Notification.get(dedupe_key="old:1")
            assert (old.sms_status, old.sms_message_id) == (SmsStatus.DELIVERED, "X1")
            assert (old.push_status, old.push_attempts, old.push_error) == (
                PushStatus.SKIPPED,
                0,
                "",
            )
            assert old.push_due_at is None
        finally:
            await Tortoise.close_connections()
            await Tortoise.init(config=tortoise_config(orm))  # the session's database again


async def test_gifts_of_the_previous_release_are_parcels_after_the_upgrade(
    tmp_path: Path, orm: str
) -> None:
    async with fresh_database(tmp_path) as url:
        config = tortoise_config(url)
        await migrate(config=config, target="pointsmall.0004_aftersales")
        await Tortoise.init(config=config, _create_db=False)
        try:
            connection = connections.get("default")
            await connection.execute_query(
                "INSERT INTO category (slug, name, position, created_at) "
                "VALUES ('old', 'Old', 0, '2026-01-01 00:00:00+00:00')"
            )
            await connection.execute_query(
                "INSERT INTO gift (sku, name, description, image_url, category_id, points_price, "
                "currency, active, created_at, updated_at) SELECT 'OLD-MUG', 'Old Mug', '', '', "
                "id, 700, 'CNY', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00' "
                "FROM category WHERE slug = 'old'"
            )
            await Tortoise.close_connections()
            await migrate(config=config)
            await Tortoise.init(config=config)
            old = await Gift.get(sku="OLD-MUG")
            assert (old.name, old.points_price) == ("Old Mug", 700)
            assert (old.kind, old.partner, old.instructions) == (GiftKind.PHYSICAL, "", "")
            # ... and state no credit (migration 0007, top-ups).
            assert (old.face_value, old.top_up_product, old.daily_budget) == (0, "CREDIT", None)
            # A statement that names none of the new columns still writes a parcel.
            await connections.get("default").execute_query(
                "INSERT INTO gift (sku, name, description, image_url, category_id, points_price, "
                "currency, active, created_at, updated_at) SELECT 'NEW-MUG', 'New Mug', '', '', "
                "category_id, 800, 'CNY', TRUE, created_at, updated_at FROM gift "
                "WHERE sku = 'OLD-MUG'"
            )
            assert (await Gift.get(sku="NEW-MUG")).kind is GiftKind.PHYSICAL
        finally:
            await Tortoise.close_connections()
            await Tortoise.init(config=tortoise_config(orm))  # the session's database again
