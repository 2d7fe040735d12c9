"""The committed manifest of trusted documents is the clients' operations, and the registry
holds requests to it as the policy says."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, print_ast

from api.documents import (
    BAD_ID,
    HASH_MISMATCH,
    MANIFEST,
    NOT_FOUND,
    NOT_TRUSTED,
    REGENERATE,
    DocumentRefused,
    DocumentRegistry,
    build_manifest,
    client_files,
    document_id,
    load_manifest,
    manifest_text,
    with_typenames,
)
from schema.prepared import prepare
from schema.root import build_schema
from tests.support.graphql import operation


def test_committed_manifest_matches_the_client_operations() -> None:
    assert MANIFEST.exists(), f"the manifest is missing; create it with: {REGENERATE}"
    assert MANIFEST.read_text() == manifest_text(build_manifest(client_files())), (
        f"{MANIFEST.name} differs from tests/clients/*.graphql; regenerate it with: {REGENERATE}"
    )


def test_every_trusted_document_is_prepared_once() -> None:
    schema = build_schema()
    manifest = load_manifest()
    subscriptions = [t for t in manifest.values() if t.startswith("subscription")]
    unprepared = [
        t.splitlines()[0]
        for t in manifest.values()
        if t not in subscriptions and not prepare(schema, t)
    ]
    assert not unprepared, f"documents the lean path cannot take: {unprepared}"
    assert subscriptions, "subscriptions are in the manifest (they run over websockets)"


def test_a_document_is_the_operation_with_its_fragments_printed(tmp_path: Path) -> None:
    manifest = load_manifest()
    assert manifest[document_id(operation("Catalog"))] == operation("Catalog")
    assert "fragment GiftCard on Gift" in operation("Catalog")


def test_every_client_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "member.graphql").write_text("query A { categories { slug } }")
    (tmp_path / "console.graphql").write_text(
        "fragment F on Category { slug }\nquery B { categories { ...F } }"
    )
    manifest = build_manifest(client_files(tmp_path))
    assert set(manifest.values()) == {
        "query A {\n  categories {\n    slug\n  }\n}",
        "query A {\n  categories {\n    slug\n    __typename\n  }\n}",
        "query B {\n  categories {\n    ...F\n  }\n}\n\nfragment F on Category {\n  slug\n}",
        "query B {\n  categories {\n    ...F\n    __typename\n  }\n}\n\n"
        "fragment F on Category {\n  slug\n  __typename\n}",
    }
    assert all(key == document_id(text) for key, text in manifest.items())


def test_typenames_are_added_as_apollo_client_adds_them() -> None:
    text = "query Q { __typename gifts(first: 1) { edges { node { __typename sku } } } }"
    assert print_ast(with_typenames(parse(text))) == (
        "query Q {\n  __typename\n  gifts(first: 1) {\n    edges {\n      node {\n"
        "        __typename\n        sku\n      }\n      __typename\n    }\n"
        "    __typename\n  }\n}"
    )


def test_an_operation_name_used_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("query A { categories { slug } }")
    (tmp_path / "b.graphql").write_text("query A { categories { name } }")
    with pytest.raises(ValueError, match="operation A is in both"):
        build_manifest(client_files(tmp_path))


def test_a_manifest_whose_id_is_not_its_hash_does_not_load(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"sha256:' + "0" * 64 + '": "{ categories { slug } }"}')
    with pytest.raises(ValueError, match="not the sha256"):
        load_manifest(path)


TRUSTED = "query T {\n  categories {\n    slug\n  }\n}"
OTHER = "query O { categories { name } }"


def registry(*, trusted_only: bool) -> DocumentRegistry:
    return DocumentRegistry({document_id(TRUSTED): TRUSTED}, trusted_only=trusted_only)


def apq(text: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_id(text).split(":")[1]}}


def refused(code: str) -> pytest.RaisesExc[DocumentRefused]:
    return pytest.raises(DocumentRefused, check=lambda e: e.code == code)


@pytest.mark.parametrize("trusted_only", [False, True])
def test_a_trusted_document_runs_by_id_hash_and_text(trusted_only: bool) -> None:
    documents = registry(trusted_only=trusted_only)
    for found in (
        documents.resolve(None, document_id(TRUSTED), None),
        documents.resolve(None, None, apq(TRUSTED)),
        documents.resolve(TRUSTED, None, apq(TRUSTED)),
        documents.resolve(TRUSTED, None, None),
    ):
        assert found is not None
        assert (found.text, found.trusted) == (TRUSTED, True)


def test_apq_registers_a_document_in_any_mode() -> None:
    documents = registry(trusted_only=False)
    with refused(NOT_FOUND):
        documents.resolve(None, None, apq(OTHER))
    registered = documents.resolve(OTHER, None, apq(OTHER))
    assert registered is not None
    assert (registered.text, registered.trusted) == (OTHER, False)
    by_hash = documents.resolve(None, None, apq(OTHER))
    assert by_hash is not None
    assert by_hash.text == OTHER
    by_id = documents.resolve(None, document_id(OTHER), None)
    assert by_id is not None
    assert by_id.text == OTHER


@pytest.mark.parametrize("trusted_only", [False, True])
def test_a_hash_that_is_not_its_query_is_refused(trusted_only: bool) -> None:
    documents = registry(trusted_only=trusted_only)
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": document_id(TRUSTED)[7:]}}
    with refused(HASH_MISMATCH):
        documents.resolve(OTHER, None, wrong)
    with refused(NOT_FOUND):  # and nothing was registered under it
        documents.resolve(None, document_id(OTHER), None)


def test_trusted_mode_reads_a_trusted_document_written_otherwise() -> None:
    documents = registry(trusted_only=True)
    written = "# the app's own file\nquery T {\n    categories { slug }  # comment\n}\n"
    found = documents.resolve(written, None, None)
    assert found is not None
    assert (found.text, found.trusted) == (TRUSTED, True)
    by_hash = documents.resolve(written, None, apq(written))
    assert by_hash is not None
    assert by_hash.text == TRUSTED
    with refused(NOT_TRUSTED):  # one field more is another document
        documents.resolve("query T { categories { slug name } }", None, None)
    with refused(NOT_TRUSTED):
        documents.resolve("query T { categories {", None, None)


def test_trusted_mode_runs_nothing_else() -> None:
    documents = registry(trusted_only=True)
    with refused(NOT_TRUSTED):
        documents.resolve(OTHER, None, None)
    with refused(NOT_TRUSTED):  # its true hash sent along changes nothing
        documents.resolve(OTHER, None, apq(OTHER))
    with refused(NOT_FOUND):  # and it was not registered
        documents.resolve(None, None, apq(OTHER))
    with refused(NOT_FOUND):
        documents.resolve(None, document_id(OTHER), None)


@pytest.mark.parametrize(
    ("document_id_", "extensions"),
    [
        ("Catalog", None),
        ("sha256:XYZ", None),
        ("md5:" + "0" * 32, None),
        (None, {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}),
        (None, {"persistedQuery": {"version": 1}}),
    ],
)
def test_ids_of_the_wrong_form_are_refused(
    document_id_: str | None, extensions: dict[str, object] | None
) -> None:
    with refused(BAD_ID):
        registry(trusted_only=False).resolve(None, document_id_, extensions)
