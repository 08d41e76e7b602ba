"""
The white paper as GitHub-flavoured Markdown.

Text from the catalog is escaped so it can never break the layout: Markdown punctuation is
backslash-escaped (pipes included), raw HTML cannot slip through, and a newline inside a
table cell becomes ``<br>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from charter.catalog.catalog import Catalog
from charter.catalog.model import Service
from charter.catalog.render import _content
from charter.catalog.render._table import COLUMNS, inventory_table, protection_notes

_SPECIAL = re.compile(r"([\\`*\[\]<>&|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_LEADING = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def escape(text: str) -> str:
    """Escape ``text`` for inline Markdown; newlines become spaces."""
    text = _SPECIAL.sub(r"\\\1", _NEWLINES.sub(" ", text))
    return _LEADING.sub(_escape_leading, text, count=1)


def _escape_leading(match: re.Match[str]) -> str:
    """Escape what would start a heading, quote or list at the start of a paragraph."""
    space, mark, number, delimiter = match.groups()
    if mark is not None:
        return f"{space}\\{mark}"
    return f"{space}{number}\\{delimiter}"


def escape_cell(text: str) -> str:
    """Escape ``text`` for a table cell; newlines become ``<br>``."""
    return "<br>".join(_SPECIAL.sub(r"\\\1", line) for line in _NEWLINES.split(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(escape_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines.extend("| " + " | ".join(escape_cell(c) for c in row) + " |" for row in rows)
    return lines


def service_section(catalog: Catalog, service: Service) -> list[str]:
    """A service's section: summary, inventory table, notes, functions, controls, rules."""
    out = [f'<a id="{_content.anchor(service.id)}"></a>', "", f"## {escape(service.name)}", ""]
    out += [
        escape(service.summary),
        "",
        f"Offered in: {escape(_content.markets_text(catalog, service.markets))}.",
        "",
    ]
    out += ["### Data inventory", ""]
    if service.on_device_only:
        out += ["This service processes data on the device only; no data is collected.", ""]
    elif not service.inventory:
        out += ["No data inventory is declared.", ""]
    else:
        out += table(COLUMNS, [r.cells for r in inventory_table(catalog, service)])
        out.append("")
        notes = protection_notes(service)
        if notes:
            out += ["Notes:", ""]
            out += [f"- {escape(n)}" for n in notes]
            out.append("")
    if service.functions:
        out += ["### Functions", ""]
        for function in service.functions:
            view = _content.function_view(catalog, function)
            out += [f"#### {escape(view.name)}", "", escape(view.description), ""]
            if view.on_device_only:
                out.append("- **On the device only**: nothing leaves the device.")
            if view.collects:
                out.append(
                    f"- {view.collects_label}: " + "; ".join(escape(c) for c in view.collects) + "."
                )
            out += [f"- Third party: {escape(t)}" for t in view.third_parties]
            if view.on_device_only or view.collects or view.third_parties:
                out.append("")
    controls = _content.controls(catalog, service)
    if controls:
        out += ["### Controls", ""]
        out += [f"- **{escape(e.term)}**: {escape(e.text)}" for e in controls]
        out.append("")
    rules = _content.rules(catalog, service)
    if rules:
        out += ["### Promises", ""]
        out += [f"- `{e.term}`: {escape(e.text)}" for e in rules]
        out.append("")
    return out


def _header(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> list[str]:
    info = catalog.info
    title = f"{info.name}: privacy white paper" if whole else f"{info.name}: {services[0].name}"
    out = [f"# {escape(title)}", ""]
    meta = f"Regenerated from catalog {escape(info.id)}, version {escape(info.version)}"
    if info.source:
        meta += f"; source: {escape(info.source)}"
    out += [f"*{meta}.*", ""]
    if whole and info.description:
        out += [escape(info.description), ""]
    return out


def _contents(services: tuple[Service, ...]) -> list[str]:
    out = ["## Contents", "", "- [Vocabulary](#vocabulary)"]
    out += [f"- [{escape(s.name)}](#{_content.anchor(s.id)})" for s in services]
    out += [
        "- [Regions and storage locations](#regions)",
        "- [System switches](#system-switches)",
        "",
    ]
    return out


def _vocabulary() -> list[str]:
    out = ['<a id="vocabulary"></a>', "", "## Vocabulary", ""]
    for section in _content.vocabulary():
        out += [f"### {escape(section.title)}", ""]
        out += [f"- **{escape(e.term)}**: {escape(e.text)}" for e in section.entries]
        out.append("")
    return out


def _regions(catalog: Catalog) -> list[str]:
    out = ['<a id="regions"></a>', "", "## Regions and storage locations", ""]
    rows = [(r.region, r.provider, r.locations) for r in _content.region_rows(catalog)]
    out += table(("Region", "Cloud Service Providers", "Data Storage Locations"), rows)
    out.append("")
    details = [
        (d.region, d.controller, d.processor, d.transfer_mechanism, d.markets)
        for d in _content.region_details(catalog)
    ]
    out += table(("Region", "Controller", "Processor", "Transfer Mechanism", "Markets"), details)
    out.append("")
    return out


def _switches(catalog: Catalog) -> list[str]:
    out = ['<a id="system-switches"></a>', "", "## System switches", ""]
    entries = _content.switches(catalog)
    out += [f"- **{escape(e.term)}**: {escape(e.text)}" for e in entries] or [
        "No system switches are declared."
    ]
    out.append("")
    return out


def render_text(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> str:
    """The Markdown document of ``services``; ``whole`` adds contents, vocabulary and regions."""
    out = _header(catalog, services, whole)
    if whole:
        out += _contents(services) + _vocabulary()
    for service in services:
        out += service_section(catalog, service)
    if whole:
        out += _regions(catalog) + _switches(catalog)
    return "\n".join(out).rstrip("\n") + "\n"


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The Markdown document, UTF-8 encoded."""
    return render_text(catalog, services, whole).encode("utf-8")
