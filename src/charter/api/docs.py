"""
``/docs``: the API's interactive documentation (Swagger UI), served entirely from this
installation. FastAPI's default page loads its script and styles from a CDN and starts
them with an inline script; offline it is blank, and it calls third-party hosts. Here the
Swagger UI assets come from the ``fastapi-offline`` package, the start-up script is a file
of ours (:file:`docs_assets/init.js`), and every response carries the Privacy Center's
security headers (CSP ``'self'`` only, no framing, ``nosniff``).

ReDoc is not served: it injects inline styles, which that CSP refuses.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from charter.errors import NotFoundError

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
"""The headers of every Privacy Center page, on the docs page and its assets too."""

ASSET_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · API documentation</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"><noscript>The interactive documentation needs JavaScript; the
OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
"""

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def assets() -> dict[str, Traversable]:
    """The files ``/docs/assets/<name>`` serves, by name (a fixed list: nothing else)."""
    vendor = resources.files("fastapi_offline") / "static"
    ours = resources.files("charter.api") / "docs_assets"
    return {
        "swagger-ui-bundle.js": vendor / "swagger-ui-bundle.js",
        "swagger-ui.css": vendor / "swagger-ui.css",
        "favicon.png": vendor / "favicon.png",
        "init.js": ours / "init.js",
    }


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets on ``app`` (create it with ``docs_url=None``)."""
    files = assets()
    loaded: dict[str, bytes] = {}
    page = PAGE.format(title=app.title)

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        found = files.get(name)
        if found is None:
            raise NotFoundError("no such documentation asset", field="name")
        media = MEDIA_TYPES[name[name.rindex(".") :]]
        data = loaded.get(name)
        if data is None:
            data = loaded[name] = found.read_bytes()
        return Response(data, media_type=media, headers=ASSET_HEADERS)
