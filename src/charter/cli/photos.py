"""``charter photo``: strip and inspect photo metadata from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from charter.photos.batch import BatchResult, strip_many
from charter.photos.errors import PhotoFormatError
from charter.photos.inspect import inspect_file
from charter.photos.options import StripMode, StripOptions

app = typer.Typer(
    name="photo",
    help="Share photos without oversharing: remove location and other metadata.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    return typer.Exit(code)


def _pairs(files: list[Path], out: Path | None, in_place: bool) -> list[tuple[Path, Path]]:
    if out is not None and in_place:
        raise _fail("choose either --out DIR or --in-place, not both", 2)
    if out is None and not in_place:
        raise _fail("choose where to write: --out DIR (a copy) or --in-place (replace)", 2)
    if out is None:
        return [(f, f) for f in files]
    if out.exists() and not out.is_dir():
        raise _fail(f"{out}: --out must be a folder", 2)
    out.mkdir(parents=True, exist_ok=True)
    pairs = [(f, out / f.name) for f in files]
    names = [dst.name for _, dst in pairs]
    if len(set(names)) != len(names):
        raise _fail("two inputs have the same file name; they would overwrite each other", 2)
    for src, dst in pairs:
        if src.exists() and dst.exists() and src.resolve() == dst.resolve():
            raise _fail(f"{src.name}: --out is the source folder; use --in-place instead", 2)
    return pairs


def _line(result: BatchResult) -> str:
    assert result.report is not None
    r = result.report
    return f"{result.src.name} -> {result.dst} ({r.format.value}): removed {r.summary()}"


@app.command("strip")
def strip_command(
    files: Annotated[list[Path], typer.Argument(help="Photos to strip.", show_default=False)],
    *,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write stripped copies into this folder.")
    ] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Replace the files.")] = False,
    keep_location_free_exif: Annotated[
        bool,
        typer.Option(
            "--keep-location-free-exif",
            help="Remove only location (GPS, places); keep the other EXIF/XMP data.",
        ),
    ] = False,
    keep_location_only: Annotated[
        bool,
        typer.Option(
            "--keep-location-only",
            help="Keep only the location (the EXIF GPS block); remove every other block.",
        ),
    ] = False,
    drop_icc: Annotated[
        bool, typer.Option("--drop-icc", help="Also remove the colour profile.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Parallel processes.")] = 1,
) -> None:
    """Remove metadata from photos without re-encoding them."""
    if keep_location_free_exif and keep_location_only:
        raise typer.BadParameter(
            "choose one: --keep-location-free-exif removes the location, "
            "--keep-location-only keeps nothing else",
            param_hint="--keep-location-only",
        )
    pairs = _pairs(files, out, in_place)
    mode = StripMode.LOCATION if keep_location_free_exif else StripMode.ALL
    if keep_location_only:
        mode = StripMode.KEEP_LOCATION
    options = StripOptions(mode=mode, drop_icc=drop_icc)
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    if len(pairs) == 1:
        results = strip_many(pairs, options)
    else:
        columns = (TextColumn("stripping"), BarColumn(), MofNCompleteColumn())
        # No auto-refresh thread: the bar redraws per result (on_result runs on this thread).
        with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
            task = progress.add_task("strip", total=len(pairs))

            def advance(_: BatchResult) -> None:
                progress.advance(task)
                progress.refresh()

            results = strip_many(pairs, options, jobs=jobs, on_result=advance)
    failed = 0
    for result in results:
        if result.ok:
            console.print(_line(result), markup=False)
        else:
            failed += 1
            errors.print(f"error: {result.error}", markup=False)
    if failed:
        raise typer.Exit(1)


@app.command("inspect")
def inspect_command(
    file: Annotated[Path, typer.Argument(help="Photo to inspect.", show_default=False)],
    *,
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Also print the metadata values.")
    ] = False,
) -> None:
    """List the metadata families a photo carries (values only with --show-values)."""
    try:
        inventory = inspect_file(file, show_values=show_values)
    except PhotoFormatError as exc:
        raise _fail(exc.message) from None
    except OSError as exc:
        raise _fail(f"{file.name}: {exc.strerror or type(exc).__name__}") from None
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"{file.name}: {inventory.format} ({inventory.media_type})", markup=False)
    if not inventory.families:
        console.print("  no removable metadata", markup=False)
    for family, count in inventory.families.items():
        console.print(f"  {family}: {count}", markup=False)
    if inventory.kept:
        console.print(f"  kept for rendering: {', '.join(inventory.kept)}", markup=False)
    for family, name, value in inventory.values:
        console.print(f"    [{family}] {name} = {value}", markup=False)
