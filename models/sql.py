"""Running hand-written statements, the same text on PostgreSQL and SQLite.

The hot paths write their statements by hand (built by the ORM, building them cost more CPU
than PostgreSQL spent running them: benchmarks/PROFILES.md), each in the module that owns
the table it writes. They use PostgreSQL's numbered placeholders (`$1`, `$2`, ...); on
SQLite they become `?1`, `?2`, ..., which SQLite binds by the same numbers. Row locks (`FOR
UPDATE`) exist only on PostgreSQL: SQLite's transactions take the whole database when
they begin (`api/sqlite.py`), so the SQLite form of a statement drops the clause, and
drops the casts PostgreSQL needs on a placeholder (`$3::timestamptz`), which SQLite does
not know.

A statement built from pieces takes its values through `Params`: each placeholder is made
where its value is written, so no piece counts the placeholders of another. `composed`
joins the pieces of one PostgreSQL statement (a chain of CTEs) and makes sure each runs. A
statement written whole, far from where it runs, names its placeholders (`$now`) and is
bound by name (`NamedStatement`).

Values go through the drivers as they do for the ORM (SQLite stores datetimes and
decimals as the text the ORM writes), so rows written here and rows written by models
read back the same. They run on the connection of the current transaction, if any.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)

_PLACEHOLDER = re.compile(r"\$(\d+)(?:::[a-z]+(?:\[\])?)?")
_FOR_UPDATE = re.compile(r"\s+FOR UPDATE(?: OF \w+)?\s*$")


def _client() -> BaseDBAsyncClient:
    client: BaseDBAsyncClient = connections.get("default")
    return client


def on_postgres() -> bool:
    return bool(_client().capabilities.dialect == "postgres")


@lru_cache(maxsize=512)
def _sqlite(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", _FOR_UPDATE.sub("", sql))


def _text(sql: str, client: BaseDBAsyncClient) -> str:
    return sql if client.capabilities.dialect == "postgres" else _sqlite(sql)


async def fetch(sql: str, *params: Any) -> list[dict[str, Any]]:
    """The rows a statement returns (a SELECT, or a write with RETURNING)."""
    client = _client()
    return await client.execute_query_dict(_text(sql, client), list(params))


async def fetch_one(sql: str, *params: Any) -> dict[str, Any] | None:
    rows = await fetch(sql, *params)
    return rows[0] if rows else None


async def execute(sql: str, *params: Any) -> int:
    """Run a write without RETURNING; the number of rows it changed."""
    client = _client()
    changed, _ = await client.execute_query(_text(sql, client), list(params))
    return int(changed)


@lru_cache(maxsize=256)
def listed(count: int, *, first: int = 1) -> str:
    """`$1, $2, $3`: placeholders for the values of an `IN (...)` list."""
    return ", ".join(f"${n}" for n in range(first, first + count))


async def insert(
    head: str,
    rows: Sequence[Sequence[Any]],
    *,
    conflict: str = "",
    returning: str | None = None,
) -> list[dict[str, Any]]:
    """A multi-row `INSERT`: `head` names the table and columns, each row gives their values.

    `conflict` is an `ON CONFLICT ...` clause (the same on both databases).
    With `returning` (column names), the written rows' values, in no promised order.
    """
    if not rows:
        return []
    text = _insert_text(head, len(rows), len(rows[0]), conflict, returning)
    params = [value for row in rows for value in row]
    if returning is None:
        await execute(text, *params)
        return []
    return await fetch(text, *params)


@lru_cache(maxsize=256)
def _insert_text(head: str, rows: int, columns: int, conflict: str, returning: str | None) -> str:
    placeholders = ", ".join(
        "(" + ", ".join(f"${r * columns + c + 1}" for c in range(columns)) + ")"
        for r in range(rows)
    )
    tail = f" RETURNING {returning}" if returning else ""
    return f"{head} VALUES {placeholders} {conflict}{tail}"


# A PostgreSQL setting, reached into by name: generic plans for the rest of the current
# transaction only (`set_config(..., true)` ends with it, so it is safe behind a pooler in
# transaction mode). A statement that finds its rows by key has the same plan either way,
# but PostgreSQL judges a long statement's custom plan cheaper and plans it afresh on every
# run; a transaction made only of such statements asks for generic plans with this
# expression in its first statement (benchmarks/PROFILES.md §15).
POSTGRES_GENERIC_PLANS_FOR_THIS_TRANSACTION = (
    "set_config('plan_cache_mode', 'force_generic_plan', true)"
)


class Params:
    """The values of one statement, each given its placeholder where it is written."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any, cast: str = "") -> str:
        """The placeholder of `value` (`$n`, with `::cast` for PostgreSQL's type inference)."""
        self.values.append(value)
        return f"${len(self.values)}::{cast}" if cast else f"${len(self.values)}"


_NAME = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class NamedStatement:
    """`text` with `$1`, `$2`, ... in place of the names, numbered by first appearance."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, source: str) -> NamedStatement:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        return cls(_NAME.sub(number, source), tuple(names))

    def args(self, **values: Any) -> list[Any]:
        """The values in placeholder order; raises TypeError unless every name, and only
        those, is given."""
        if values.keys() != set(self.names):
            raise TypeError(f"the statement takes {sorted(self.names)}, not {sorted(values)}")
        return [values[name] for name in self.names]


def composed(steps: Sequence[tuple[str, str]], *, columns: str, source: str = "") -> str:
    """One PostgreSQL statement: named steps (CTEs, run in this order) and a final
    `SELECT columns [FROM source]`.

    PostgreSQL runs a step that writes whether or not anything reads it, but a step that
    only reads (a `pg_notify`, say) only if something does: the final row reads each such
    step that no later step nor the columns read, so every step runs.
    """
    ctes = ",\n".join(f"{name} AS ({text})" for name, text in steps)
    read = "".join(
        f", (SELECT count(*) FROM {name}) AS ran_{name}"  # noqa: S608 (step names)
        for index, (name, text) in enumerate(steps)
        if text.lstrip().upper().startswith("SELECT")
        and not _reads(name, [later for _, later in steps[index + 1 :]] + [columns])
    )
    return f"WITH {ctes}\nSELECT {columns}{read}" + (f" FROM {source}" if source else "")


def _reads(step: str, texts: Sequence[str]) -> bool:
    """Whether one of `texts` reads the step named (`FROM step`, `JOIN step`, `, step`)."""
    pattern = re.compile(rf"(?:FROM|JOIN|,)\s+{re.escape(step)}\b")
    return any(pattern.search(text) for text in texts)


def model(cls: type[M], row: Mapping[str, Any]) -> M:
    """A model instance from a row holding all its columns, converted as the ORM's own
    queries convert theirs (extra columns are ignored)."""
    return cls._init_from_db(**row)


def moment(value: datetime | str) -> datetime:
    """A timestamp column's value as an aware datetime (SQLite hands back its text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
