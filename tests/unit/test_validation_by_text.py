"""Validation is remembered by the query's text: the same text, the same answer, once."""

from __future__ import annotations

from schema.root import Limits, _validated, build_schema


async def test_the_same_text_is_validated_once_and_answered_the_same() -> None:
    schema = build_schema()
    _validated.cache_clear()
    text = "query Broken { nope }"
    first = await schema.execute(text)
    second = await schema.execute(text)
    assert first.errors
    assert second.errors
    assert [e.message for e in first.errors] == [e.message for e in second.errors]
    info = _validated.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    other = await schema.execute("query Broken  { nope }")  # another text, the same document
    assert other.errors
    assert _validated.cache_info().misses == 2


async def test_each_schema_validates_with_its_own_limits() -> None:
    deep = "{ categories { slug gifts(first: 1) { edges { node { sku } } } } }"
    shallow = build_schema(Limits(max_depth=2))
    roomy = build_schema(Limits(max_depth=12))
    refused = await shallow.execute(deep)
    assert refused.errors
    assert "depth" in refused.errors[0].message
    allowed = await roomy.execute(deep)
    assert not allowed.errors or all("depth" not in e.message for e in allowed.errors)
