"""What an answer tells HTTP caches, and the shared catalog answers behind it.

Only a complete answer to a public catalog read (api/catalog_cache.py says which reads are
public) asked by GET without a token may be kept by a browser or a CDN: `Cache-Control:
public` for as long as the service keeps its own shared answers, and an `ETag`. Everything
else, and anything asked with a token (whose answer may be the caller's own), is
`private, no-store`.

The ETag is the answer's own digest. The catalog's change notices drop every replica's
shared answers at once (LISTEN/NOTIFY), so every replica then computes the same new answer,
and the same answer is the same tag whichever replica a CDN asks; a version counter would
differ between replicas, and would also miss the promised ship day turning at midnight,
which changes the answer without any write. A matching `If-None-Match` answers 304; with
the shared answers on, from the kept answer without computing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api.catalog_cache import ANSWERS, CatalogCache, operation_key

PRIVATE = "private, no-store"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    complete: bool = False  # 200 with data and no errors: the only kind kept or shared


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    given = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in given or tag in given


class CatalogAnswers:
    """The shared answers (None: off) and the caching headers of every answer."""

    def __init__(self, cache: CatalogCache | None, *, public_max_age: float) -> None:
        self.cache = cache
        seconds = int(public_max_age)
        self.public = f"public, max-age={seconds}" if seconds > 0 else "public, no-cache"

    def key(
        self,
        text: str,
        name: str | None,
        variables: dict[str, Any] | None,
        *,
        admin: bool,
    ) -> object | None:
        """The key of a public catalog read's answer (an admin's apart: they also see
        inactive gifts); None for anything else."""
        return operation_key(text, name, variables, admin=admin)

    async def respond(
        self,
        request: Request,
        key: object | None,
        media: str,
        compute: Callable[[], Awaitable[Answer]],
    ) -> Response:
        public = (
            key is not None
            and request.method == "GET"
            and request.headers.get("authorization") is None
        )
        if key is None or self.cache is None:
            answer = await compute()
        else:
            answer = await self._shared(self.cache, key, compute)
        if not (public and answer.complete):
            return self.private(answer, media)
        tag = entity_tag(answer.body)
        headers = {"Cache-Control": self.public, "ETag": tag, "Vary": "Accept, Authorization"}
        if _matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
        return Response(answer.body, status_code=200, media_type=media, headers=headers)

    def private(self, answer: Answer, media: str) -> Response:
        return Response(
            answer.body,
            status_code=answer.status,
            media_type=media,
            headers={"Cache-Control": PRIVATE},
        )

    async def _shared(
        self, cache: CatalogCache, key: object, compute: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        body, source = cache.get(key), "cached"
        if body is None:
            body, source = await cache.wait(key), "shared"
        if body is not None:
            ANSWERS.labels(source).inc()
            return Answer(200, body, complete=True)
        ANSWERS.labels("computed").inc()
        with cache.computing(key) as done:
            version, born = cache.version, cache.clock()
            answer = await compute()
            kept = answer.complete and cache.put(key, version=version, born=born, body=answer.body)
            done(answer.body if kept else None)
        return answer
