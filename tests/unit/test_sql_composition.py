"""Building statements from pieces: placeholders made where written, steps that all run."""

from __future__ import annotations

from models import sql


def test_each_value_gets_the_next_placeholder_where_it_is_written() -> None:
    p = sql.Params()
    text = f"UPDATE t SET a = {p(1)}, b = {p('x', 'text')} WHERE id = {p([1, 2], 'bigint[]')}"
    assert text == "UPDATE t SET a = $1, b = $2::text WHERE id = $3::bigint[]"
    assert p.values == [1, "x", [1, 2]]


def test_a_step_that_only_reads_is_made_to_run_unless_something_reads_it() -> None:
    steps = [
        ("placed", "INSERT INTO t (a) VALUES ($1) RETURNING *"),
        ("plan", "SELECT * FROM unnest($2::int[]) AS p (n)"),
        ("taken", "UPDATE u SET n = n - p.n FROM plan p WHERE u.id = 1"),
        ("told", "SELECT pg_notify($3, placed.a) FROM placed"),
    ]
    text = sql.composed(steps, columns="placed.a", source="placed")
    assert text.endswith("SELECT placed.a, (SELECT count(*) FROM told) AS ran_told FROM placed"), (
        text
    )
    assert text.count("ran_") == 1
