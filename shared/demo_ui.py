"""The demo chat page: a fixed allow-list of files from ``web/``, and nothing else.

A request picks a file only by its key in :data:`ASSETS`; the key is never
joined onto a path, so no URL, encoded or not, can reach another file.
The page runs entirely in the browser and talks to the relay's own routes,
so it holds no upstream key; the strict Content-Security-Policy keeps it
from loading or sending anything elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from azurefunctions.extensions.http.fastapi import FileResponse, JSONResponse, RedirectResponse, Request, Response

from .dialects.openai_chat import error_body
from .errors import ClientError

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


@dataclass(frozen=True)
class Asset:
    """One servable file: where it lives under ``web/`` and what it is."""

    path: str
    media_type: str


JS = "text/javascript; charset=utf-8"
# The page's own modules, then the vendored libraries (web/vendor/, see VERSIONS.txt), served flat
# under /ui/ so the modules' relative imports resolve without a second path segment.
PAGE_MODULES = (
    "demo.js",
    "relay-client.js",
    "credentials.js",
    "conversation.js",
    "error-words.js",
    "markdown.js",
    "turns.js",
)
VENDORED = (
    "marked.esm.js",
    "purify.min.js",
    "hljs-core.min.js",
    *(f"hljs-{language}.min.js" for language in ("bash", "javascript", "json", "python", "typescript", "xml", "yaml")),
)
ASSETS = {
    "index.html": Asset("index.html", "text/html; charset=utf-8"),
    "demo.css": Asset("demo.css", "text/css; charset=utf-8"),
    **{name: Asset(name, JS) for name in PAGE_MODULES},
    **{name: Asset(f"vendor/{name}", JS) for name in VENDORED},
}

# Same-origin only: the page's own files, and fetches to the relay that served it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


def page(request: Request) -> Response:
    """``GET /ui``: the page; ``/ui/`` redirects so its relative ``ui/...`` links resolve."""
    path = request.url.path
    if path.endswith("/"):
        return RedirectResponse(path.rstrip("/"), status_code=308)
    return serve("index.html")


def asset(request: Request) -> Response:
    """``GET /ui/{file}``: the file named by the path's last segment, if allow-listed.

    The name comes from the URL rather than route parameters, which the
    Functions worker does not hand to functions that use the streaming types.
    """
    return serve(request.url.path.rsplit("/", 1)[-1])


def serve(name: str) -> Response:
    """The allow-listed file ``name``, or a 404 in the relay's error shape."""
    found = ASSETS.get(name)
    if found is None:
        error = ClientError("no such file", code="not_found", status=404)
        return JSONResponse(error_body(error), status_code=404, headers={"X-Content-Type-Options": "nosniff"})
    return FileResponse(WEB_ROOT / found.path, media_type=found.media_type, headers=HEADERS)
