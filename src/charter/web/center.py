"""
The person's Privacy Center home: one card per service (what it collects, its switches,
download, delete, withdraw), the system switches, policy versions and pending re-consents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup, escape

from charter.catalog.policies import GENERAL
from charter.errors import InputError, NotFoundError
from charter.gate.consent import ConsentStatus
from charter.gate.export import count_records
from charter.web._routing import WebRoute
from charter.web.deps import (
    BACK_MAX,
    User,
    csrf_protect,
    current_user,
    day,
    redirect,
    render,
    same_site_path,
    services,
    web_session,
)
from charter.web.views import (
    KEPT_WITH_ACCOUNT,
    service_cards,
    switch_label,
    system_switches,
    terms_used,
)

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]
Confirmed = Annotated[str, Form(max_length=10)]
ServiceId = Annotated[str, Form(max_length=64)]

STATUS_WORDS = {
    ConsentStatus.MISSING: "not yet accepted",
    ConsentStatus.UPDATED: "a new version is available",
    ConsentStatus.RECONSENT_REQUIRED: "changed materially: your consent is needed again",
    ConsentStatus.CURRENT: "accepted",
    ConsentStatus.WITHDRAWN: "consent withdrawn",
    ConsentStatus.NOT_REQUIRED: "no consent needed",
}


def _scope_name(request: Request, scope: str) -> str:
    if scope == GENERAL:
        return "General privacy policy"
    service = services(request).charter.catalog.services.get(scope)
    return f"{service.name} privacy policy" if service else scope


def _offered(request: Request, user: User, service_id: str) -> None:
    """
    Raises:
        NotFoundError: the service is unknown or not offered in the person's market.
    """
    charter = services(request).charter
    service = charter.catalog.services.get(service_id)
    market = charter.gate.subject(user.subject_id).market
    if service is None or not service.markets.includes(market):
        raise NotFoundError("no such service here", field="service")


@router.get("/", include_in_schema=False)
def home(request: Request, user: Me) -> Response:
    """The Privacy Center home page."""
    web = services(request)
    charter = web.charter
    subject = charter.gate.subject(user.subject_id)
    switches = charter.gate.switches(user.subject_id)
    counts = count_records(charter.gate, subject)
    cards = service_cards(charter.catalog, charter.compiled, subject.market, switches, counts)
    book = web.rights.consents
    notices = []
    for notice in book.notices(user.subject_id):
        using = switches.get(f"{notice.scope}.authorization", False)
        if notice.status is ConsentStatus.MISSING and notice.scope != GENERAL and not using:
            continue  # a service never used: its card offers consent when switched on
        notices.append((notice, _scope_name(request, notice.scope), STATUS_WORDS[notice.status]))
    profile = web.accounts.profile(user.subject_id)
    return render(
        request,
        "center.html",
        {
            "title": "Your Privacy Center",
            "cards": cards,
            "system": system_switches(charter.catalog, switches),
            "notices": notices,
            "nickname": profile.get("nickname"),
            "download_ready": bool(web_session(request).download),
            "total_records": sum(counts.values()),
        },
    )


@router.post("/switches", include_in_schema=False)
def change_switch(
    request: Request,
    user: Me,
    key: Annotated[str, Form(max_length=120)],
    value: Annotated[str, Form(pattern="^(on|off)$")],
    back: Annotated[str, Form(max_length=BACK_MAX)] = "",
) -> Response:
    """Turn one switch on or off; turning a service on records consent to its policy. The
    person goes back to ``back``, the page the switch was on, when it is a path of this site
    (anything else, e.g. ``//evil.example``, is ignored: the home page's card then)."""
    web = services(request)
    charter = web.charter
    if key not in charter.compiled.defaults:
        raise InputError("unknown switch", field="key")
    owner, _, kind = key.partition(".")
    if owner != "system":
        _offered(request, user, owner)
    on = value == "on"
    service = charter.catalog.services.get(owner)
    if kind == "authorization" and on and service and service.controls.consent:
        web.rights.consents.record(user.subject_id, owner, method="privacy_center")
    else:
        charter.gate.set_switches(
            user.subject_id, {key: on}, source="privacy_center", actor="subject"
        )
    web_session(request).say(
        f"{switch_label(charter.catalog, key)} is now {'on' if on else 'off'}.", "success"
    )
    anchor = "system" if owner == "system" else f"service-{owner}"
    return redirect(same_site_path(back) or f"/#{anchor}")


@router.post("/consents", include_in_schema=False)
def consent(request: Request, user: Me, scope: ServiceId) -> Response:
    """Accept the current version of a policy (recorded as proof)."""
    web = services(request)
    if scope != GENERAL:
        _offered(request, user, scope)
    record = web.rights.consents.record(user.subject_id, scope, method="privacy_center")
    web_session(request).say(
        f"Thank you: you accepted version {record.version} of the {_scope_name(request, scope)}.",
        "success",
    )
    return redirect("/#policies")


@router.get("/policies/{scope}", include_in_schema=False)
def policy(request: Request, user: Me, scope: str) -> Response:
    """A policy's current text, its versions and the person's consent records for it."""
    web = services(request)
    if scope != GENERAL:
        _offered(request, user, scope)
    library = web.rights.consents.policies
    current = library.current(scope)
    records = [r for r in web.rights.consents.records(user.subject_id) if r.scope == scope]
    status = web.rights.consents.status(user.subject_id, scope)
    return render(
        request,
        "policy.html",
        {
            "title": _scope_name(request, scope),
            "scope": scope,
            "policy": current,
            "body": markdown_lite(current.text),
            "terms": terms_used(web.charter.catalog, current.text),
            "versions": library.versions(scope),
            "records": records,
            "status": STATUS_WORDS[status.status],
            "accepted": status.status is ConsentStatus.CURRENT,
        },
    )


@router.post("/services/{service_id}/withdraw", include_in_schema=False)
def withdraw(request: Request, user: Me, service_id: str, confirm: Confirmed = "") -> Response:
    """Withdraw consent: collection stops, server data goes, devices are told to delete."""
    _offered(request, user, service_id)
    _require(confirm)
    result = services(request).rights.withdraw(user.subject_id, service_id)
    name = services(request).charter.catalog.services[service_id].name
    web_session(request).say(
        f"Consent to {name} withdrawn: collection stopped, {result.records} records deleted, "
        f"{len(result.device_commands)} devices asked to delete their copy.",
        "success",
    )
    return redirect(f"/#service-{service_id}")


@router.post("/services/{service_id}/delete", include_in_schema=False)
def delete_data(request: Request, user: Me, service_id: str, confirm: Confirmed = "") -> Response:
    """Delete everything a service holds about the person (the service stays usable)."""
    _offered(request, user, service_id)
    _require(confirm)
    if service_id in KEPT_WITH_ACCOUNT:
        raise InputError("account data goes only with the account; delete the account instead")
    result = services(request).rights.erase(user.subject_id, service=service_id)
    name = services(request).charter.catalog.services[service_id].name
    web_session(request).say(f"{result.records} records of {name} deleted.", "success")
    return redirect(f"/#service-{service_id}")


def _require(confirm: str) -> None:
    if confirm != "yes":
        raise InputError("tick the box to confirm first", field="confirm")


@router.post("/export", include_in_schema=False)
def export(request: Request, user: Me) -> Response:
    """Build a copy of all the person's data; a single-use download follows."""
    _request_id, ticket = services(request).rights.export(user.subject_id)
    session = web_session(request)
    session.download = ticket.token
    session.say(
        f"Your copy is ready: {ticket.records} records. Download it below; the link works once.",
        "success",
    )
    return redirect("/#download")


@router.post("/download", include_in_schema=False)
def download(request: Request, user: Me) -> Response:
    """Redeem the single-use download link of the person's latest export."""
    session = web_session(request)
    token = session.download
    if not token:
        raise NotFoundError("there is no download waiting; create a new copy first")
    session.download = None
    session.dirty = True
    chunks = services(request).rights.download(token)
    first = next(chunks, b"")  # a spent or expired link fails here, before any header
    name = f"charter-export-{day(services(request).charter.clock())}.zip"

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")


def markdown_lite(text: str) -> Markup:
    """Policy Markdown as safe HTML: headings, bullet lists and paragraphs (escaped)."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{escape(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        stripped = line.strip()
        heading = _HEADING.match(stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = min(len(heading.group(1)) + 1, 4)
            out.append(f"<h{level}>{escape(heading.group(2))}</h{level}>")
        elif stripped.startswith(("- ", "* ")):
            if para:
                flush()
            items.append(stripped[2:])
        else:
            para.append(stripped)
    flush()
    return Markup("\n".join(out))  # noqa: S704 - every piece of text above is escaped
