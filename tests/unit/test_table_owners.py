"""One owner per table, in SQL too: a module writes only the tables its own package defines.

A domain package (`models/orders/`, `fulfilment/`, ...) owns the tables of the models it
defines. Every statement text in it that inserts, updates or deletes, and every ORM write
through a model class, must target one of those (or a temporary table the same module
creates). Another package's table is written through that package's functions, or by a step
it hands over (`stock.reserve_step`), never by a statement spelt outside it.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise.models import Model

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("models", "fulfilment")
MODEL_MODULES = (
    "models.catalog.models",
    "models.members.models",
    "models.orders.models",
    "models.payments.models",
    "models.points.models",
    "models.aftersales.models",
    "models.vouchers.models",
    "models.topups.models",
    "fulfilment.models",
)
WRITE = re.compile(r"\b(?:INSERT\s+INTO|(?<!FOR )(?<!DO )UPDATE|DELETE\s+FROM)\s+\"?(\w+)")
TEMPORARY = re.compile(r"\bCREATE\s+TEMPORARY\s+TABLE\s+(\w+)")
ORM_WRITES = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
    }
)


def _models() -> Iterator[type[Model]]:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    pending = list(Model.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith(DOMAINS):
            yield cls


def _package(module: str) -> str:
    return module.rsplit(".", 1)[0]


TABLE_OWNERS = {cls._meta.db_table: _package(cls.__module__) for cls in _models()}
MODEL_OWNERS = {cls.__name__: _package(cls.__module__) for cls in _models()}


def _modules() -> list[Path]:
    return sorted(
        path
        for domain in DOMAINS
        for path in (ROOT / domain).rglob("*.py")
        if "migrations" not in path.parts
    )


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def _texts(tree: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _temporary_tables(package: str) -> set[str]:
    """The temporary tables the modules of `package` create: theirs to write."""
    paths = [path for path in _modules() if _package_of(path) == package]
    return {
        t
        for path in paths
        for text in _texts(ast.parse(path.read_text()))
        for t in TEMPORARY.findall(text)
    }


def foreign_writes(source: str, package: str) -> list[str]:
    """Writes in `source` (a module of `package`) to tables another package owns."""
    tree = ast.parse(source)
    texts = _texts(tree)
    own_temporary = _temporary_tables(package) | {
        t for text in texts for t in TEMPORARY.findall(text)
    }
    found = [
        f"SQL writes {table} ({TABLE_OWNERS.get(table, 'unknown')}'s)"
        for text in texts
        for table in WRITE.findall(text)
        if table not in own_temporary and TABLE_OWNERS.get(table) != package
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root: ast.expr = node.func
            while isinstance(root, ast.Attribute | ast.Call):
                root = root.func if isinstance(root, ast.Call) else root.value
            owner = MODEL_OWNERS.get(root.id) if isinstance(root, ast.Name) else None
            if node.func.attr in ORM_WRITES and owner is not None and owner != package:
                found.append(f"line {node.lineno}: {root.id}.{node.func.attr} ({owner}'s)")  # type: ignore[union-attr]
    return found


def test_every_table_has_an_owner() -> None:
    assert {"redemption_order", "order_line", "stock", "ship_day", "points_entry"} <= set(
        TABLE_OWNERS
    )
    assert TABLE_OWNERS["redemption_order"] == "models.orders"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_writes_only_its_own_packages_tables(path: Path) -> None:
    package = _package_of(path)
    if package not in MODEL_OWNERS.values():
        package = "(none)"  # plumbing at the top of `models/` (sql, events) owns no table
    assert foreign_writes(path.read_text(), package) == []


def test_the_check_sees_a_foreign_write_in_sql_and_through_the_orm() -> None:
    source = '''
STEP = """UPDATE stock SET reserved = reserved + 1 WHERE id = $1"""
async def f():
    await Stock.filter(id=1).update(reserved=0)
    await Order.filter(id=1).update(status="X")
'''
    assert foreign_writes(source, "models.orders") == [
        "SQL writes stock (models.catalog's)",
        "line 4: Stock.update (models.catalog's)",
    ]
