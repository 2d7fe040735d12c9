"""Each compiled plan is written for a document of the committed manifest."""

from __future__ import annotations

from graphql import parse, print_ast

from api.documents import load_manifest, with_typenames
from schema.plans import CATALOG, CATALOG_TYPED, ME, ME_TYPED, PLANS


def test_every_plan_names_a_document_of_the_manifest() -> None:
    manifest = load_manifest()
    stale = [key for key in PLANS if key not in manifest]
    assert not stale, (
        f"plans written for documents no longer in the manifest: {stale}; a client document "
        "changed: rewrite its plan in schema/plans.py for the new selection and name its new id"
    )
    assert manifest[ME].startswith("query Me {")
    assert manifest[CATALOG].startswith("query Catalog(")
    for plain, typed in ((ME, ME_TYPED), (CATALOG, CATALOG_TYPED)):
        assert manifest[typed] == print_ast(with_typenames(parse(manifest[plain])))
