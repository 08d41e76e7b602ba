"""
``charter usage ...`` and ``charter ads ...``: the staff side of app usage data and
advertising, without Python.

- ``charter usage release``: release one differentially private histogram (people per system
  app) and print it, with ε, k and OpenDP's predicted error; only the release is kept.
- ``charter usage budgets``: the privacy-budget ledger as aggregates per purpose (never a
  person), with the ε per query and lifetime cap in force (settings or catalog).
- ``charter usage essential``: the essential telemetry counters (no subject, no device).
- ``charter ads segments``: the segment definitions: which apps point to which segment, the
  ads of each, and the sources the catalog allows.

Every command takes ``--json`` for machines. Mount with ``app.add_typer(usage.app,
name="usage")`` and ``app.add_typer(usage.ads_app, name="ads")``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from charter.app import Charter
from charter.config import Settings
from charter.errors import CharterError
from charter.services.ads import segments as seg
from charter.services.usage.apps import SYSTEM_APPS

console = Console()
err_console = Console(stderr=True)
ACTOR = "staff:cli"
COUNTER_COLUMNS = ("day", "purpose", "system_version", "device_model", "status", "count")

DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

app = typer.Typer(
    help="App usage data: DP releases, the privacy-budget ledger (aggregates), essential "
    "telemetry.",
    no_args_is_help=True,
)
ads_app = typer.Typer(help="Advertising: segment definitions.", no_args_is_help=True)


@contextmanager
def _charter(data_dir: Path) -> Iterator[Charter]:
    """The deployment in ``data_dir``; a Charter error is printed plainly (exit 1)."""
    if not data_dir.is_dir():
        _fail(f"no data directory at {data_dir}: run `charter init -d {data_dir}` first")
    try:
        charter = Charter.open(Settings.from_env(data_dir=data_dir))
    except CharterError as exc:
        _fail(exc.message)
    try:
        yield charter
    except CharterError as exc:
        _fail(exc.message)
    finally:
        charter.close()


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def _emit(as_json: bool, data: Any, table: Callable[[], Table]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        console.print(table())


@app.command("release")
def release(data_dir: DataDir = Path("data"), as_json: Json = False) -> None:
    """Release the number of people using each system app, with differential privacy."""
    with _charter(data_dir) as charter:
        out = charter.usage.analytics.release_app_usage(actor=ACTOR)
    r = out.release
    counts = dict(zip(SYSTEM_APPS, r.counts, strict=True))
    data = {
        "release_id": out.release_id,
        "epsilon": r.epsilon,
        "k": r.k,
        "accuracy": r.accuracy,
        "confidence": 1 - r.alpha,
        "people_used": out.used,
        "people_over_budget": out.over_budget,
        "people_refused": out.refused,
        "counts": counts,
    }

    def table() -> Table:
        t = Table(
            title=f"Release {out.release_id}: ε = {r.epsilon:g}, counts below k = {r.k} "
            f"suppressed, each within ±{r.accuracy:.1f} at {1 - r.alpha:.0%}"
        )
        t.add_column("app")
        t.add_column("people (noisy)", justify="right")
        for app_id, count in counts.items():
            t.add_row(app_id, "suppressed" if count is None else str(count))
        t.caption = (
            f"{out.used} people contributed; {out.over_budget} left out (lifetime budget "
            f"spent); {out.refused} refused by the gate (switches)"
        )
        return t

    _emit(as_json, data, table)


@app.command("budgets")
def budgets(data_dir: DataDir = Path("data"), as_json: Json = False) -> None:
    """The privacy budget spent per purpose, as aggregates (never a person)."""
    with _charter(data_dir) as charter:
        params = charter.usage.params
        rows = charter.usage.analytics.budget_summary()
    data = {
        "epsilon_per_query": params.epsilon_per_query,
        "lifetime_epsilon": params.lifetime_epsilon,
        "k_threshold": params.k_threshold,
        "purposes": [asdict(r) for r in rows],
    }

    def table() -> Table:
        t = Table(
            title=f"Privacy budget: ε {params.epsilon_per_query:g} per release, lifetime cap "
            f"{params.lifetime_epsilon:g} per person and purpose (never renewed)"
        )
        for name in ("purpose", "people", "ε spent", "mean", "max", "at the cap"):
            t.add_column(name, justify="left" if name == "purpose" else "right")
        for r in rows:
            t.add_row(
                r.purpose,
                str(r.people),
                f"{r.spent:g}",
                f"{r.mean:.3g}",
                f"{r.max:g}",
                str(r.exhausted),
            )
        if not rows:
            t.caption = "nothing spent yet: no release has used anyone's data"
        return t

    _emit(as_json, data, table)


@app.command("essential")
def essential(data_dir: DataDir = Path("data"), as_json: Json = False) -> None:
    """The essential telemetry counters (system updates, security; no subject, no device)."""
    with _charter(data_dir) as charter:
        rows = charter.usage.events.essential_counts()
        days = charter.usage.params.essential_retention_days
    data = [{k: v for k, v in r.items() if k != "expires_at"} for r in rows]

    def table() -> Table:
        t = Table(title=f"Essential telemetry (kept {days} days)")
        for name in COUNTER_COLUMNS:
            t.add_column(name, justify="right" if name == "count" else "left")
        for r in data:
            t.add_row(*(str(r[k]) for k in COUNTER_COLUMNS))
        if not data:
            t.caption = "no essential telemetry received"
        return t

    _emit(as_json, data, table)


@ads_app.command("segments")
def segments(data_dir: DataDir = Path("data"), as_json: Json = False) -> None:
    """The segment definitions: apps pointing to each segment, its ads, allowed sources."""
    with _charter(data_dir) as charter:
        sources = sorted(charter.ads.segment_types)
    apps: dict[str, list[str]] = {}
    for fragment, segment in seg.SEGMENT_OF_PACKAGE.items():
        apps.setdefault(segment, []).append(fragment)
    rows: list[dict[str, Any]] = [
        {"segment": s, "package_fragments": apps.get(s, []), "ads": list(ads)}
        for s, ads in seg.ADS.items()
    ]
    data = {
        "sources": sources,
        "min_signals": seg.MIN_SIGNALS,
        "non_personalized": list(seg.NON_PERSONALIZED),
        "segments": rows,
    }

    def table() -> Table:
        t = Table(
            title=f"Ad segments (built only from: {', '.join(sources)}; at least "
            f"{seg.MIN_SIGNALS} signals each)"
        )
        for name in ("segment", "package names containing", "ads"):
            t.add_column(name)
        for row in rows:
            t.add_row(row["segment"], ", ".join(row["package_fragments"]), ", ".join(row["ads"]))
        t.caption = f"non-personalized: {', '.join(seg.NON_PERSONALIZED)}"
        return t

    _emit(as_json, data, table)
