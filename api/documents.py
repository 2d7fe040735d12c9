"""Trusted documents: the clients' operations known in advance, and requests naming them.

The manifest maps `sha256:<hex>` ids to documents, the flat JSON object GraphQL Codegen's
client preset and Relay write (`persisted-documents.json`). `pointsmall persisted-documents`
builds it from the client operation files (tests/clients/*.graphql): each operation with
the fragments it uses, printed as graphql-js prints it; and the same with `__typename` in
every selection set, as Apollo Client's cache sends it (as Codegen's preset does for
Apollo), so an Apollo client hashes what it sends to an id of the manifest.

A request names its document three ways (`resolve`): by text (`query`), by id
(`documentId`, the GraphQL over HTTP spec's persisted-documents appendix), or by Apollo's
Automatic Persisted Queries (`extensions.persistedQuery.sha256Hash`, with the text on the
registration round). Under `GRAPHQL_DOCUMENTS=trusted` only documents of the manifest run:
a text that is one of them with other spacing or comments runs as the manifest has it, any
other is refused whatever hash comes with it, and nothing is registered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

MANIFEST = Path(__file__).resolve().parent / "persisted_documents.json"
CLIENTS = Path(__file__).resolve().parent.parent / "tests" / "clients"
REGENERATE = "make persisted-documents   (or: .venv/bin/pointsmall persisted-documents)"
DOCUMENT_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
# Documents an `any` server keeps from APQ registrations: enough for every client build in
# use, bounded so registrations cannot grow the process.
REGISTERED_KEPT = 1024

# A trusted server reads a text that is not one of its documents byte for byte only to
# learn whether it is one printed otherwise; no document of the manifest is longer.
MAX_TOKENS_NORMALISED = 10_000

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
BAD_ID = "INVALID_DOCUMENT_ID"


def document_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def operations_of(document: DocumentNode) -> dict[str, str]:
    """Each named operation of a client file, printed with the fragments it uses."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            used = _fragments_used(definition, fragments)
            found[definition.name.value] = "\n\n".join(
                print_ast(node) for node in [definition, *used]
            )
    return found


def _fragments_used(
    node: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    seen: dict[str, FragmentDefinitionNode] = {}
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [node]
    while pending:
        for name in _spreads(pending.pop()):
            if name not in seen:
                seen[name] = fragments[name]
                pending.append(fragments[name])
    return list(seen.values())


def _spreads(node: OperationDefinitionNode | FragmentDefinitionNode) -> list[str]:
    names: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            names.append(spread.name.value)

    visit(node, Spreads())
    return names


def build_manifest(files: Iterable[Path]) -> dict[str, str]:
    """id -> document for every operation of the client files, in id order: each as
    written, and as Apollo Client sends it (`with_typenames`)."""
    documents: dict[str, str] = {}
    names: dict[str, Path] = {}
    for path in sorted(files):
        for name, text in operations_of(parse(path.read_text())).items():
            if name in names:
                raise ValueError(f"operation {name} is in both {names[name]} and {path}")
            names[name] = path
            for form in (text, print_ast(with_typenames(parse(text)))):
                documents[document_id(form)] = form
    return dict(sorted(documents.items()))


class _AddTypenames(Visitor):
    def enter_selection_set(
        self, node: SelectionSetNode, _key: object, parent: object, *_: object
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None  # has one already (or is introspection)
        typename = FieldNode(
            alias=None,
            name=NameNode(value="__typename"),
            arguments=(),
            directives=(),
            selection_set=None,
        )
        return SelectionSetNode(selections=(*node.selections, typename))


def with_typenames(document: DocumentNode) -> DocumentNode:
    """The document as Apollo Client's cache sends it: `__typename` last in every
    selection set but the operation's own, unless it selects one (or introspects)."""
    transformed: DocumentNode = visit(document, _AddTypenames())
    return transformed


def manifest_text(manifest: Mapping[str, str]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def client_files(directory: Path = CLIENTS) -> list[Path]:
    return sorted(directory.glob("*.graphql"))


def load_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """The manifest at `path`, each id checked against its document."""
    manifest = json.loads(path.read_text())
    for key, text in manifest.items():
        if document_id(text) != key:
            raise ValueError(f"{path}: {key} is not the sha256 of its document")
    return dict(manifest)


class DocumentRefused(Exception):
    """A request whose document cannot run, with the code the client branches on."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Named:
    """The document a request runs, and whether it is one of the manifest's."""

    text: str
    trusted: bool


class DocumentRegistry:
    """The manifest, what APQ registered (`any` only), and the policy between them."""

    def __init__(self, manifest: Mapping[str, str], *, trusted_only: bool) -> None:
        self.manifest = dict(manifest)
        self.trusted_only = trusted_only
        self._texts = {text: key for key, text in self.manifest.items()}
        self._registered: OrderedDict[str, str] = OrderedDict()

    def resolve(
        self, query: str | None, document_id: str | None, extensions: Mapping[str, object] | None
    ) -> Named | None:
        """The document the request names (None: no document at all); DocumentRefused
        when it names one that cannot run here."""
        persisted = (extensions or {}).get("persistedQuery")
        if document_id is not None:
            return self._by_id(document_id)
        if isinstance(persisted, Mapping):
            return self._apq(query, persisted)
        if query is None:
            return None
        if query in self._texts:
            return Named(query, trusted=True)
        if self.trusted_only:
            return Named(self._trusted_form(query), trusted=True)
        return Named(query, trusted=False)

    def _trusted_form(self, query: str) -> str:
        """The manifest's document `query` is written as (its own spacing and comments,
        printed alike), or DocumentRefused: a trusted server runs nothing else."""
        try:
            printed = print_ast(parse(query, max_tokens=MAX_TOKENS_NORMALISED))
        except GraphQLError:
            printed = ""
        if printed not in self._texts:
            raise DocumentRefused("Only trusted documents run on this server.", NOT_TRUSTED)
        return printed

    def _by_id(self, key: str) -> Named:
        if not DOCUMENT_ID.match(key):
            raise DocumentRefused("A documentId is sha256:<64 hex digits>.", BAD_ID)
        text = self.manifest.get(key)
        if text is not None:
            return Named(text, trusted=True)
        text = self._registered.get(key)
        if text is None:
            raise DocumentRefused("PersistedQueryNotFound", NOT_FOUND)
        self._registered.move_to_end(key)
        return Named(text, trusted=False)

    def _apq(self, query: str | None, persisted: Mapping[str, object]) -> Named:
        digest = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(digest, str):
            raise DocumentRefused("persistedQuery needs version 1 and a sha256Hash.", BAD_ID)
        key = f"sha256:{digest.lower()}"
        if query is None:
            return self._by_id(key)
        if document_id(query) != key:
            raise DocumentRefused("The sha256Hash is not the hash of the query.", HASH_MISMATCH)
        if key in self.manifest:
            return Named(query, trusted=True)
        if self.trusted_only:
            return Named(self._trusted_form(query), trusted=True)
        self._registered[key] = query
        self._registered.move_to_end(key)
        while len(self._registered) > REGISTERED_KEPT:
            self._registered.popitem(last=False)
        return Named(query, trusted=False)
