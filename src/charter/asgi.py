"""
The ASGI application of a deployment: the HTTP API and the Privacy Center side by side on
one FastAPI app, both over the same :class:`~charter.app.Charter`. ``charter serve`` runs
it with uvicorn::

    uvicorn.run(create_app(Charter.open(Settings.from_env())), host=host, port=port)
"""

from __future__ import annotations

from fastapi import FastAPI

from charter.api.app import create_api
from charter.app import Charter
from charter.web import install as install_privacy_center


def create_app(charter: Charter) -> FastAPI:
    """
    The whole deployment over HTTP: the API (``/v1``, ``/oauth``, ``/.well-known``) and the
    Privacy Center (``/``, ``/admin``, ``/static``).

    Args:
        charter: an opened deployment (the app does not close it).
    """
    app = create_api(charter)
    install_privacy_center(app, charter)
    return app


__all__ = ["create_app"]
