"""Member services: created by the CRM (upsert) or on first sight (a valid member token)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import sql, validation
from models.actors import Actor, Role
from models.members import rules
from models.members.models import Member, Tier
from models.members.rules import DEFAULT_LANGUAGE
from models.notifications.rules import OPTIONAL

IN_CHUNK = 1000  # externalIds per IN (...) list: well under SQLite's limit on parameters


@dataclass(frozen=True)
class Contact:
    """How a member is reached: a mobile (any common way of writing one), the language of
    their messages, the kinds of message they turned off."""

    mobile: str = ""
    language: str = DEFAULT_LANGUAGE.value
    opt_outs: Sequence[str] = ()


def _checked(contact: Contact) -> dict[str, str]:
    return {
        "mobile": rules.mobile(contact.mobile),
        "language": rules.language(contact.language).value,
        "opt_outs": rules.opt_outs(contact.opt_outs, allowed=OPTIONAL),
    }


async def upsert_member(
    *, external_id: str, display_name: str, tier: Tier, contact: Contact | None = None
) -> Member:
    """Create or update a member by externalId (the whole member: what is not given is
    cleared); raises InvalidInput."""
    external_id = validation.identifier(external_id, field="external_id")
    display_name = validation.text(
        display_name, field="display_name", max_length=100, required=False
    )
    values: dict[str, Any] = {
        "display_name": display_name,
        "tier": tier,
        **_checked(contact or Contact()),
    }
    for _ in range(2):
        member = await Member.get_or_none(external_id=external_id)
        if member is not None:
            member.update_from_dict(values)
            await member.save(update_fields=[*values, "updated_at"])
            return member
        try:
            async with in_transaction():
                return await Member.create(external_id=external_id, **values)
        except IntegrityError:
            continue  # created concurrently: update it instead
    raise RuntimeError("member upsert did not settle")  # pragma: no cover


async def set_preferences(
    *, external_id: str, language: str | None, opt_outs: Sequence[str] | None
) -> Member:
    """A member's own choices: the language of their messages and the kinds they turned off
    (None keeps what they had); raises InvalidInput."""
    member = await ensure_member(external_id=external_id)
    changed = []
    if language is not None:
        member.language = rules.language(language).value
        changed.append("language")
    if opt_outs is not None:
        member.opt_outs = rules.opt_outs(opt_outs, allowed=OPTIONAL)
        changed.append("opt_outs")
    if changed:
        await member.save(update_fields=[*changed, "updated_at"])
    return member


async def turn_off(*, member_id: int, kinds: Iterable[str]) -> None:
    """Add kinds of message to those the member turned off (`ALL` for every optional one)."""
    member = await Member.get(id=member_id)
    stored = rules.opt_out_list(member.opt_outs)
    member.opt_outs = rules.opt_outs([*stored, *kinds], allowed=[*stored, *kinds])
    await member.save(update_fields=["opt_outs", "updated_at"])


async def find_member(*, external_id: str) -> Member | None:
    """The member with that externalId, if known."""
    if not validation.fits(Member, "external_id", external_id):
        return None
    return await Member.get_or_none(external_id=external_id)


MEMBER = "SELECT * FROM member WHERE external_id = $1"


async def ensure_member(*, external_id: str) -> Member:
    """The member with that externalId, created with zero points if seen for the first time."""
    if (row := await sql.fetch_one(MEMBER, external_id)) is not None:
        return sql.model(Member, row)
    external_id = validation.identifier(external_id, field="external_id")
    try:
        async with in_transaction():
            return await Member.create(external_id=external_id)
    except IntegrityError:
        return await Member.get(external_id=external_id)


async def ensure_members(*, external_ids: Iterable[str]) -> dict[str, int]:
    """Member ids by externalId (already checked), creating the members not seen before."""
    wanted = sorted(set(external_ids))
    found = await _ids_of(wanted)
    missing = [external_id for external_id in wanted if external_id not in found]
    if missing:
        await Member.bulk_create(
            [Member(external_id=external_id) for external_id in missing], ignore_conflicts=True
        )
        found.update(await _ids_of(missing))
    return found


async def _ids_of(external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(external_ids), IN_CHUNK):
        chunk = external_ids[start : start + IN_CHUNK]
        found.update(await Member.filter(external_id__in=chunk).values_list("external_id", "id"))
    return found


def create_missing(*, external_ids: str) -> sql.NamedStatement:
    """`ensure_members` in one PostgreSQL statement, for the externalIds (already checked)
    that the query given returns (one column, `external_id`); bound with `now`."""
    return sql.NamedStatement.of(f"""
INSERT INTO member (external_id, display_name, tier, mobile, language, opt_outs, created_at,
                    updated_at)
SELECT DISTINCT x.external_id, '', '{Tier.STANDARD.value}', '', '{DEFAULT_LANGUAGE.value}', '',
       $now::timestamptz, $now::timestamptz
FROM ({external_ids}) AS x ORDER BY x.external_id
ON CONFLICT (external_id) DO NOTHING
""")  # noqa: S608 (the caller's query and a constant)


async def members_by_ids(ids: list[int]) -> list[Member | None]:
    """Members in the order of `ids` (for DataLoaders)."""
    found = {m.id: m for m in await Member.filter(id__in=ids)}
    return [found.get(i) for i in ids]


def may_see(actor: Actor | None, member: Member) -> bool:
    """Admins and service agents (what a ticket needs) see every member; a member sees only
    themself."""
    if actor is None:
        return False
    return actor.role in (Role.ADMIN, Role.AGENT) or (
        actor.role is Role.MEMBER and actor.subject == member.external_id
    )
