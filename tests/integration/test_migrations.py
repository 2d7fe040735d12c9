"""The migration set builds exactly the models' schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.models import Model

from api.db import APP_LABEL, MIGRATIONS, MODEL_MODULES
from tests.support.databases import is_postgres_url


def models() -> list[type[Model]]:
    return list(Tortoise.apps[APP_LABEL].values())


async def columns_of(url: str, table: str) -> set[str]:
    connection = connections.get("default")
    if is_postgres_url(url):
        rows = await connection.execute_query_dict(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table]
        )
        return {row["column_name"] for row in rows}
    rows = await connection.execute_query_dict(f'PRAGMA table_info("{table}")')
    return {row["name"] for row in rows}


async def indexed_column_sets(url: str, table: str) -> set[tuple[str, ...]]:
    connection = connections.get("default")
    if is_postgres_url(url):
        rows = await connection.execute_query_dict(
            "SELECT i.relname AS name, array_agg(a.attname ORDER BY k.n) AS cols "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = $1 GROUP BY i.relname",
            [table],
        )
        return {tuple(row["cols"]) for row in rows}
    found: set[tuple[str, ...]] = set()
    for index in await connection.execute_query_dict(f'PRAGMA index_list("{table}")'):
        info = await connection.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
        found.add(tuple(row["name"] for row in sorted(info, key=lambda r: r["seqno"])))
    return found


def declared_indexes(model: type[Model]) -> set[tuple[str, ...]]:
    declared: set[tuple[str, ...]] = set()
    for index in model._meta.indexes:
        fields: Any = getattr(index, "fields", index)
        declared.add(tuple(fields))
    for together in model._meta.unique_together:
        declared.add(tuple(column(model, f) for f in together))
    return declared


def column(model: type[Model], field: str) -> str:
    """The column of a field; a foreign key's column is its `source_field` (`gift_id`)."""
    projection = model._meta.fields_db_projection
    if field in projection:
        return projection[field]
    return str(model._meta.fields_map[field].source_field)


async def test_models_have_no_changes_missing_from_the_migrations(db: str) -> None:
    apps = {APP_LABEL: {"models": MODEL_MODULES, "migrations": MIGRATIONS}}
    pending = await MigrationAutodetector(Tortoise.apps, apps).changes()
    assert pending == [], "models changed: run `.venv/bin/tortoise makemigrations`"


async def test_migrated_tables_have_every_model_column(db: str) -> None:
    for model in models():
        table = model._meta.db_table
        expected = set(model._meta.fields_db_projection.values())
        assert await columns_of(db, table) == expected, table


async def test_migrated_tables_have_every_declared_index(db: str) -> None:
    for model in models():
        table = model._meta.db_table
        missing = declared_indexes(model) - await indexed_column_sets(db, table)
        assert not missing, f"{table} lacks indexes on {missing}"
