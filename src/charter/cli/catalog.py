"""``charter catalog``: validate, show, render and diff catalogs, and report their promises."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import charter
from charter.catalog import Catalog, load_catalog
from charter.catalog.diff import diff_catalogs
from charter.catalog.promises import (
    Promise,
    Status,
    check_deployment_markets,
    counts,
    promise_report,
)
from charter.catalog.proofs import collect_proofs
from charter.config import parse_rule_markets, positive_float
from charter.device.promises import ENFORCERS as DEVICE_ENFORCERS
from charter.errors import CatalogError, ConfigError, InputError
from charter.services import ENFORCERS
from charter.services.usage import tighten_budget

app = typer.Typer(help="Validate, show, render and compare service catalogs.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        "-c",
        help="Catalog folder (default: the built-in reference catalog).",
        envvar="CHARTER_CATALOG",
    ),
]


def _load(path: Path | None) -> Catalog:
    try:
        return load_catalog(path)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        err_console.print(f"[bold red]catalog invalid:[/] {len(exc.problems)} problem(s)")
        raise typer.Exit(1) from None


def _in_force(catalog: Catalog) -> Catalog:
    """The catalog with the deployment's settings that change what it states (the privacy
    budget of app-usage aggregates, ``CHARTER_USAGE_*``), so a rendered paper states the
    values in force."""
    try:
        return tighten_budget(
            catalog,
            epsilon_per_query=positive_float(os.environ, "CHARTER_USAGE_EPSILON_PER_QUERY"),
            lifetime_epsilon=positive_float(os.environ, "CHARTER_USAGE_LIFETIME_EPSILON"),
        )
    except ConfigError as exc:
        err_console.print(f"[bold red]settings invalid:[/] {exc}")
        raise typer.Exit(2) from None


@app.command("validate")
def validate(
    path: Annotated[
        Path | None, typer.Argument(help="Catalog folder; default: the built-in one.")
    ] = None,
) -> None:
    """Validate a catalog folder; print every problem with file, line and column."""
    catalog = _load(path)
    rows = sum(len(s.inventory) for s in catalog)
    console.print(
        f"[green]ok[/] {catalog.info.name} {catalog.info.version}: {len(catalog)} services, {rows} inventory rows, {len(catalog.markets)} markets"
    )
    found = counts(_promises(catalog, None))
    console.print(
        f"promises: {found[Status.KEPT]} kept, {found[Status.PENDING]} pending, "
        f"{found[Status.STATEMENT]} statement"
        + (f", {found[Status.UNKEPT]} unkept" if found[Status.UNKEPT] else "")
    )


TestsOption = Annotated[
    Path | None,
    typer.Option(
        "--tests",
        help="The tests folder whose promise markers prove rules (default: ./tests, or the "
        "source checkout's tests).",
    ),
]


def _tests_dir(given: Path | None) -> Path | None:
    if given is not None:
        return given
    for candidate in (Path("tests"), Path(charter.__file__).resolve().parents[2] / "tests"):
        if candidate.is_dir():
            return candidate
    return None


def _promises(catalog: Catalog, tests: Path | None) -> list[Promise]:
    folder = _tests_dir(tests)
    import os  # noqa: PLC0415 - the one place this command reads the environment

    chosen = parse_rule_markets(os.environ.get("CHARTER_RULE_MARKETS", ""))
    problems = check_deployment_markets(catalog, chosen)
    if problems:
        raise ConfigError("CHARTER_RULE_MARKETS: " + "; ".join(problems))
    return promise_report(
        catalog,
        proofs=collect_proofs(folder) if folder is not None else {},
        bound=ENFORCERS,
        deployment_markets=chosen,
        device=DEVICE_ENFORCERS,
    )


@app.command("promises")
def promises(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with status 1 when any promise is unkept.")
    ] = False,
    tests: TestsOption = None,
    catalog_path: CatalogOption = None,
) -> None:
    """Every rule with its kind, enforcer, proving tests and status (kept, pending, statement,
    unkept)."""
    catalog = _load(catalog_path)
    report = _promises(catalog, tests)
    found = counts(report)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "promises": [p.to_json() for p in report],
                    "counts": {s.value: n for s, n in found.items()},
                },
                indent=2,
            )
        )
    else:
        table = Table(title=f"{len(report)} promises")
        for col in ("promise", "kind", "enforcer", "tests", "status"):
            table.add_column(col)
        for p in report:
            table.add_row(p.id, p.kind.value, p.enforcer or "-", str(len(p.tests)), p.status.value)
        console.print(table)
        console.print(", ".join(f"{n} {s.value}" for s, n in found.items()))
        for p in report:
            if p.status is Status.PENDING and "CHARTER_RULE_MARKETS" in p.why:
                typer.echo(f"pending: {p.id}: {p.why}")
    if check and found[Status.UNKEPT]:
        for p in report:
            if p.status is Status.UNKEPT:
                typer.echo(f"unkept: {p.id}: {p.why}", err=True)
        raise typer.Exit(1)


@app.command("show")
def show(
    service: Annotated[str | None, typer.Argument(help="A service id to show in detail.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the loaded catalog (every field) as JSON.")
    ] = False,
    catalog_path: CatalogOption = None,
) -> None:
    """Show the services of a catalog, or one service's data inventory."""
    catalog = _load(catalog_path)
    if service is not None and service not in catalog.services:
        raise InputError(
            f"unknown service {service!r}; known: {', '.join(catalog.services)}", field="service"
        )
    if as_json:
        typer.echo(json.dumps(catalog_to_json(catalog, service), indent=2, ensure_ascii=False))
        return
    if service is None:
        _print_overview(catalog)
    else:
        _print_service(catalog, service)


def catalog_to_json(catalog: Catalog, service: str | None = None) -> dict[str, Any]:
    """The loaded catalog as plain JSON-compatible data (every field)."""
    services = [s for s in catalog if service is None or s.id == service]
    return {
        "catalog": catalog.info.model_dump(mode="json"),
        "services": [s.model_dump(mode="json", by_alias=True) for s in services],
        "regions": catalog.regions_file.model_dump(mode="json"),
        "system": catalog.system.model_dump(mode="json"),
        "data_types": [
            {
                "id": t.id,
                "label": t.label,
                "category": t.category.value,
                "definition": t.definition,
                "kind_of": catalog.kind_of.get(t.id),
            }
            for t in catalog.data_types.values()
        ],
    }


def _print_overview(catalog: Catalog) -> None:
    table = Table(title=f"{catalog.info.name} ({catalog.info.version})")
    for col in ("service", "name", "markets", "rows", "consent", "switches"):
        table.add_column(col)
    for s in catalog:
        markets = "all" if s.markets.available == "all" else ", ".join(s.markets.available)
        if s.markets.excluded:
            markets += " except " + ", ".join(s.markets.excluded)
        consent = (
            "on device only"
            if s.on_device_only
            else ("asked" if s.controls.consent and s.controls.consent.asked else "-")
        )
        switches = [
            n
            for n, on in (
                ("personalization", s.controls.personalization_switch),
                ("ads", s.controls.ads_switch),
            )
            if on
        ]
        switches += list(s.controls.system_switches)
        table.add_row(s.id, s.name, markets, str(len(s.inventory)), consent, ", ".join(switches))
    console.print(table)


def _print_service(catalog: Catalog, service_id: str) -> None:
    s = catalog.service(service_id)
    console.print(f"[bold]{s.name}[/] ({s.id})\n{s.summary}")
    table = Table(title="Data inventory")
    for col in ("Category", "Type", "Qualifier", "Purposes", "Transit", "At rest", "Retention"):
        table.add_column(col)
    for r in s.inventory:
        at_rest = r.protection.value + (
            f" (declared {r.declared_at_rest.label})" if r.declared_at_rest else ""
        )
        table.add_row(
            r.category.value,
            catalog.type_label(r.type),
            r.qualifier.value,
            ", ".join(p.value for p in r.purposes),
            ", ".join(r.transit),
            at_rest,
            r.retention.label,
        )
    console.print(table)
    markets = "all" if s.markets.available == "all" else ", ".join(s.markets.available)
    if s.markets.excluded:
        markets += " except " + ", ".join(s.markets.excluded)
    console.print(f"Markets: {markets}")
    market_rules = [x for x in s.rules if x.gate is not None and x.gate.markets is not None]
    for f in s.functions:
        marker = " [dim](on device only)[/]" if f.on_device_only else ""
        console.print(f"• [bold]{f.name}[/]{marker}: {f.description}")
        for rule in market_rules:
            m = rule.gate.markets if rule.gate is not None else None
            if m is not None and m.function == f.id:
                console.print(f"  markets of {m.scope_words}: {m.market_words} (promise {rule.id})")
    for rule in market_rules:
        m = rule.gate.markets if rule.gate is not None else None
        if m is not None and m.function is None:
            console.print(f"Markets of {m.scope_words}: {m.market_words} (promise {rule.id})")
    if s.rules:
        console.print("Promises:")
        for rule in s.rules:
            console.print(f"  {rule.id} ({rule.kind.value}): {rule.description}")


@app.command("render")
def render(
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="md, html, pdf, apple, datasafety, fideslang or ropa."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Render one service only.")
    ] = None,
    catalog_path: CatalogOption = None,
) -> None:
    """Render a catalog: inventory tables (md/html/pdf), store answers, fideslang, ROPA."""
    from charter.catalog.render import render_catalog  # noqa: PLC0415 - heavy (WeasyPrint)

    catalog = _in_force(_load(catalog_path))
    data = render_catalog(catalog, fmt, service=service)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    console.print(f"wrote {out} ({len(data):,} bytes, {fmt})")


@app.command("diff")
def diff(
    old: Annotated[Path, typer.Argument(help="The older catalog folder.")],
    new: Annotated[Path, typer.Argument(help="The newer catalog folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print changes as JSON.")] = False,
) -> None:
    """What changed between two catalog versions; material changes need re-consent."""
    changes = diff_catalogs(_load(old), _load(new))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "kind": c.kind.value,
                        "service": c.service,
                        "data_type": c.data_type,
                        "material": c.material,
                        "detail": c.detail,
                    }
                    for c in changes
                ],
                indent=2,
            )
        )
        return
    if not changes:
        console.print("no changes")
        return
    table = Table(title=f"{len(changes)} change(s), {sum(c.material for c in changes)} material")
    for col in ("service", "kind", "material", "detail"):
        table.add_column(col)
    for c in changes:
        table.add_row(c.service, c.kind.value, "yes" if c.material else "", c.detail)
    console.print(table)
