"""The Tortoise configuration: one app, one dialect-neutral migration set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from api.postgres import ENGINE as POSTGRES_ENGINE
from api.settings import Settings, load_settings
from api.sqlite import ENGINE as SQLITE_ENGINE

APP_LABEL = "pointsmall"
MODEL_MODULES = [
    "models.members.models",
    "models.points.models",
    "models.catalog.models",
    "models.orders.models",
    "models.payments.models",
    "models.notifications.models",
    "models.aftersales.models",
    "models.vouchers.models",
    "models.topups.models",
    "fulfilment.models",
]
MIGRATIONS = "models.migrations"


def _connection(database_url: str) -> str | dict[str, Any]:
    if database_url.startswith("sqlite://"):
        sqlite: dict[str, Any] = expand_db_url(database_url)
        sqlite["engine"] = SQLITE_ENGINE  # transactions that serialise across processes
        return sqlite
    if not is_postgres(database_url):
        return database_url
    config: dict[str, Any] = expand_db_url(database_url)
    if config["engine"] == "tortoise.backends.asyncpg":
        config["engine"] = POSTGRES_ENGINE  # see api/postgres.py
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for one database URL."""
    _ensure_sqlite_directory(database_url)
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_directory(database_url: str) -> None:
    """A newcomer's SQLite file lives under ./data, which a fresh clone lacks."""
    if not database_url.startswith("sqlite://"):
        return
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def is_postgres(database_url: str) -> bool:
    """Whether the URL names PostgreSQL (asyncpg or psycopg)."""
    return database_url.split("://", 1)[0] in {"postgres", "postgresql", "asyncpg", "psycopg"}


def _cli_config(settings: Settings) -> dict[str, Any]:
    return tortoise_config(settings.database_url)


# Read by `tortoise` CLI (`[tool.tortoise] tortoise_orm = "api.db.TORTOISE_ORM"`).
TORTOISE_ORM = _cli_config(load_settings())
