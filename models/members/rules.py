"""Pure member rules: a mobile number in one canonical form, the languages spoken, and which
messages a member has turned off."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from models.errors import InvalidInput


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


DEFAULT_LANGUAGE = Language.ZH_CN
# A mainland mobile: 11 digits starting 13-19, with or without the country code 86.
CHINESE_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9][0-9]{9})$")
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
SEPARATORS = re.compile(r"[\s\-().]")
# Every message a member may turn off, by kind; `ALL_OPTIONAL` turns them all off (`TD`).
ALL_OPTIONAL = "ALL"


def mobile(value: str, *, field: str = "mobile") -> str:
    """The number in E.164 (`+8613800138000`); '' for none. Raises InvalidInput.

    A mainland mobile may come as 11 digits, with 86 or +86 in front, spaced or dashed;
    any other country's number must be E.164 with its `+`."""
    compact = SEPARATORS.sub("", value.strip())
    if not compact:
        return ""
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    chinese = CHINESE_MOBILE.match(compact)
    if chinese:
        return f"+86{chinese[1]}"
    if E164.match(compact) and not compact.startswith("+86"):
        return compact
    raise InvalidInput(
        "mobile must be a mainland mobile number (11 digits) or a number in E.164 (+...)",
        field=field,
    )


def language(value: str, *, field: str = "language") -> Language:
    """A supported language tag (case as written by BCP 47 or not); raises InvalidInput."""
    for known in Language:
        if value.strip().lower() == known.value.lower():
            return known
    raise InvalidInput(f"language must be one of {', '.join(Language)}", field=field)


def opt_outs(kinds: Iterable[str], *, allowed: Iterable[str], field: str = "opt_outs") -> str:
    """The stored form of the kinds a member turned off: `,KIND,KIND,` (so a statement can
    test one with LIKE '%,KIND,%'). Raises InvalidInput for a kind that cannot be turned off."""
    permitted = {*allowed, ALL_OPTIONAL}
    chosen = sorted({kind.strip().upper() for kind in kinds if kind.strip()})
    for kind in chosen:
        if kind not in permitted:
            raise InvalidInput(
                f"{kind} cannot be turned off (one of {', '.join(sorted(permitted))})", field=field
            )
    return f",{','.join(chosen)}," if chosen else ""


def opted_out(stored: str, kind: str) -> bool:
    """Whether a member with these stored opt-outs turned `kind` off (or every optional kind)."""
    return f",{kind}," in stored or f",{ALL_OPTIONAL}," in stored


def opt_out_list(stored: str) -> list[str]:
    return [kind for kind in stored.split(",") if kind]
