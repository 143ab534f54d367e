"""Serving the built pages, their hashed assets and the chat widget (see `webui/__init__.py`).

- `/` (log in, where to go), `/agent`, `/wallboard`, `/reports`, `/admin`, `/chat-demo` (a company page embedding the
  widget) and `/docs` (Swagger UI from local assets: works offline) are HTML pages, `no-cache` (revalidated
  by ETag), each behind a Content-Security-Policy that lets it reach only this server. A page checks the
  user's role itself (the API refuses whatever the role may not do, whatever page asks).
- `/assets/<name>`: the build's files, named by content hash, cached for a year (`immutable`); gzip when the
  browser takes it.
- `/widget.js`: the chat widget for other sites' `<script>` tag: a stable name, cached five minutes.
- Without a build, each page is a 503 naming the command that builds it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from centralita.api.auth import public
from centralita.core.errors import NotFound
from centralita.core.i18n import _

__all__ = ["DIST", "PAGES", "install"]

DIST = Path(__file__).parent / "dist"
PAGES = {
    "/": "index.html",
    "/agent": "agent.html",
    "/wallboard": "wallboard.html",
    "/reports": "reports.html",
    "/admin": "admin.html",
    "/chat-demo": "chat-demo.html",
    "/docs": "docs.html",
}
ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
YEAR = "public, max-age=31536000, immutable"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".json")


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str


class _Files:
    """The built files, read once (they change only with a new build, i.e. a restart)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, _File] = {}
        self._lock = threading.Lock()

    def get(self, relative: str) -> _File | None:
        with self._lock:
            found = self._cache.get(relative)
        if found is not None:
            return found
        path = self.root / relative
        if not path.is_file():
            return None
        body = path.read_bytes()
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media.startswith("text/") or media in ("application/javascript", "application/json"):
            media += "; charset=utf-8"
        zipped = gzip.compress(body, 6, mtime=0) if path.suffix in COMPRESSIBLE and len(body) > 512 else None
        loaded = _File(body, zipped, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', media)
        with self._lock:
            self._cache[relative] = loaded
        return loaded


def _send(request: Request, found: _File, cache: str, page: bool = False) -> Response:
    headers = {
        "Cache-Control": cache,
        "ETag": found.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if page:
        headers["Content-Security-Policy"] = CSP
        headers["Referrer-Policy"] = "same-origin"
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    if found.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def _not_built() -> Response:
    text = _("The web pages are not built: run ./scripts/build-web.sh (the setup command does).")
    return Response(text, status_code=503, media_type="text/plain; charset=utf-8", headers={"Retry-After": "60"})


def install(app: FastAPI, root: Path = DIST) -> None:
    files = _Files(root)
    open_route = [Depends(public())]

    def page_route(path: str, name: str) -> None:
        def serve(request: Request) -> Response:
            found = files.get(name)
            return _send(request, found, "no-cache", page=True) if found is not None else _not_built()

        app.add_api_route(
            path, serve, methods=["GET"], include_in_schema=False, dependencies=open_route, name=f"page:{name}"
        )

    for path, name in PAGES.items():
        page_route(path, name)

    @app.get("/assets/{name}", include_in_schema=False, dependencies=open_route)
    def asset(name: str, request: Request) -> Response:
        found = files.get(f"assets/{name}") if ASSET_NAME.match(name) else None
        if found is None:
            raise NotFound(_("no file {name}", name=name[:100]))
        return _send(request, found, YEAR)

    @app.get("/widget.js", include_in_schema=False, dependencies=open_route)
    def widget(request: Request) -> Response:
        found = files.get("widget.js")
        if found is None:
            return _not_built()
        response = _send(request, found, "public, max-age=300")
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response
