"""
The Privacy Center: server-rendered pages (Jinja2, no script needed) where people see what
each service collects, switch collection and personalization on and off, download, delete
and withdraw, follow their requests and devices, and delete their account; and where staff
work the request queue, read the audit log and keep the government-request register.

:func:`install` adds the pages and their static files to the deployment's FastAPI app::

    app = create_app(charter)   # calls charter.web.install(app, charter)

See ``docs/privacy-center.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

if TYPE_CHECKING:
    from charter.app import Charter

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, charter: Charter) -> None:
    """Serve the Privacy Center of ``charter`` at ``/`` (user pages), ``/admin`` (staff) and
    ``/static``."""
    from charter.web import (  # noqa: PLC0415 - keeps import light
        activity,
        admin,
        apps,
        auth,
        browser,
        center,
        cloud,
        find_device,
        items,
        mine,
        pay,
        promises,
        telemetry,
        themes,
        vault,
        video,
        where,
    )
    from charter.web.deps import build_services  # noqa: PLC0415

    app.state.web = build_services(charter)

    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    for router in (
        auth.router,
        center.router,
        items.router,
        cloud.router,
        find_device.router,
        pay.router,
        browser.router,
        video.router,
        themes.router,
        apps.router,
        vault.router,
        activity.router,
        where.router,
        mine.router,
        promises.router,
        telemetry.router,
        admin.router,
    ):
        app.include_router(router)


__all__ = ["install"]
