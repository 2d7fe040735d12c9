"""Operations the migrations share (`models/migrations/` holds migrations only: its loader
takes every module there for one)."""

from __future__ import annotations

from tortoise.migrations import operations as ops


class AlterEnumDescription(ops.AlterField):
    """A CharEnumField whose enum gained values: only its description (the list of values)
    changes, nothing in the database. SQLite would otherwise rebuild the whole table for it,
    and tortoise's rebuild drops the table's indexes."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None
