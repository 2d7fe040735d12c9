"""Each compiled plan is written for a document of the committed manifest."""

from __future__ import annotations

from api.documents import load_manifest
from schema.plans import CATALOG, ME, PLANS


def test_every_plan_names_a_document_of_the_manifest() -> None:
    manifest = load_manifest()
    stale = [key for key in PLANS if key not in manifest]
    assert not stale, (
        f"plans written for documents no longer in the manifest: {stale}; a client document "
        "changed: rewrite its plan in schema/plans.py for the new selection and name its new id"
    )
    assert manifest[ME].startswith("query Me {")
    assert manifest[CATALOG].startswith("query Catalog(")
