"""Static files shipped in the package (the console, GraphiQL), served under a content hash.

A bundle is one package folder. Its address carries a digest of every file in it
(`/console/assets/<digest>/app.js`), so a browser keeps each file for a year without
asking again, and a new release, which changes the digest, is fetched afresh. Relative
imports between the bundle's JavaScript modules stay inside the same digest. Each file also
has a strong ETag, so a revalidation (a reload that forces it) costs a 304. The pages that
name a bundle are served with `no-cache` and their own ETag: always current, cheap to check.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".graphql": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
FOREVER = "public, max-age=31536000, immutable"
# A Host header that is a plain host[:port] may be named in a header we send back.
_PLAIN_HOST = re.compile(
    r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$"
)


@dataclass(frozen=True)
class Bundle:
    """The files of one folder, in memory, with their digest and ETags."""

    files: Mapping[str, bytes]
    etags: Mapping[str, str]
    digest: str

    @classmethod
    def of(cls, folder: Path, *, skip: Iterable[str] = ()) -> Bundle:
        """Every file under `folder` (but those named in `skip`), keyed by relative path."""
        left_out = set(skip)
        files = {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.relative_to(folder).as_posix() not in left_out
        }
        whole = hashlib.sha256()
        etags = {}
        for name, content in files.items():
            own = hashlib.sha256(content).hexdigest()
            whole.update(f"{name}\0{own}\0".encode())
            etags[name] = f'"{own[:32]}"'
        return cls(files=files, etags=etags, digest=whole.hexdigest()[:16])

    def response(
        self, request: Request, digest: str, name: str, headers: Mapping[str, str]
    ) -> Response:
        """The file `name` of this release; 404 for another release or an unknown name."""
        content = self.files.get(name)
        if digest != self.digest or content is None:
            return Response(
                "not found",
                status_code=404,
                media_type="text/plain",
                headers={**headers, "Cache-Control": "no-store"},
            )
        return cached(
            request,
            content,
            media_type_of(name),
            etag=self.etags[name],
            cache_control=FOREVER,
            headers=headers,
        )


@cache
def bundle_of(folder: Path) -> Bundle:
    """One bundle per folder for the process (apps made by tests share it)."""
    return Bundle.of(folder)


def media_type_of(name: str) -> str:
    return MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")


def cached(
    request: Request,
    content: bytes,
    media_type: str,
    *,
    etag: str,
    cache_control: str,
    headers: Mapping[str, str],
) -> Response:
    """`content` with its ETag, or 304 when the browser already holds that version."""
    sent = {**headers, "ETag": etag, "Cache-Control": cache_control}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=sent)
    return Response(content, media_type=media_type, headers=sent)


def etag_of(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def websocket_sources(request: Request) -> str:
    """The websocket origins of the host the page was asked from (`'self'` covers them in
    CSP level 3; named too for browsers that read level 2), or nothing for an odd Host."""
    host = request.headers.get("host", "")
    if not _PLAIN_HOST.match(host):
        return ""
    return f" ws://{host} wss://{host}"


def content_security_policy(request: Request, *, style_inline: bool = False) -> str:
    """A strict policy: scripts, styles and connections from this origin only, no inline
    script, no framing, no plugins."""
    styles = "'self' 'unsafe-inline'" if style_inline else "'self'"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src 'self'{websocket_sources(request)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def page_headers(request: Request, *, style_inline: bool = False) -> dict[str, str]:
    """What every console and GraphiQL response carries besides its own caching."""
    return {
        "Content-Security-Policy": content_security_policy(request, style_inline=style_inline),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
