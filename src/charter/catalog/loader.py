"""
Loading a catalog folder: parse every file with positions, validate, cross-check, build.

Every problem is collected (not just the first) and reported with file, line, column, the
offending value and the closest valid term. A catalog with any problem is never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from charter.catalog._yaml import (
    LazyLocatedDocument,
    LocatedDocument,
    YamlSyntaxError,
    parse_fast,
    parse_located,
)
from charter.catalog.catalog import Catalog
from charter.catalog.checks import check_catalog
from charter.catalog.model import CatalogInfo, DataTypes, Regions, Service, System
from charter.catalog.suggest import closest
from charter.errors import CatalogError, Problem
from charter.taxonomy import BUILTIN_DATA_TYPES_BY_ID, VOCABULARIES, DataTypeTerm

RESERVED_FILES = ("catalog.yaml", "regions.yaml", "system.yaml", "datatypes.yaml")
BUILTIN_CATALOG = "miui12"

M = TypeVar("M", bound=BaseModel)

_FIELD_VOCABULARY: dict[str, tuple[str, ...]] = {
    **VOCABULARIES,
    "retention": ("until_deleted", "not_stored"),
    "kind": ("until_deleted", "days", "not_stored"),
    "governs": ("all", *VOCABULARIES["purposes"]),
    "on_withdrawal": (
        "stop_collection",
        "delete_server_data",
        "delete_device_data",
        "disable_service",
    ),
    "printed": ("category", "type", "qualifier", "purposes", "transit", "at_rest", "retention"),
    "refuse_purposes": VOCABULARIES["purposes"],
    "only": ("deployment",),
    "except": ("deployment",),
    "available": ("all",),
}

_RULE_KINDS: tuple[str, ...] = ("gate", "service", "device", "statement")


def builtin_catalog_path(name: str = BUILTIN_CATALOG) -> Path:
    """The folder of a catalog shipped inside the package."""
    return Path(str(resources.files("charter.catalogs") / name))


def load_catalog(path: Path | str | None = None) -> Catalog:
    """
    Load and validate a catalog folder (the built-in reference catalog by default).

    Raises:
        CatalogError: with every problem found; nothing is loaded.
    """
    folder = Path(path) if path is not None else builtin_catalog_path()
    problems: list[Problem] = []
    if not folder.is_dir():
        raise CatalogError(
            [
                Problem(
                    str(folder),
                    None,
                    None,
                    "",
                    "is not a catalog folder (expected a directory of YAML files)",
                )
            ]
        )

    def read(
        name: str, model: type[M], *, required: bool
    ) -> tuple[M | None, LocatedDocument | None]:
        file = folder / name
        if not file.exists():
            if required:
                problems.append(
                    Problem(str(file), None, None, "", f"is missing; a catalog needs {name}")
                )
            return None, None
        return _validate_file(file, model, problems)

    info, _ = read("catalog.yaml", CatalogInfo, required=True)
    regions, regions_doc = read("regions.yaml", Regions, required=True)
    system, system_doc = read("system.yaml", System, required=True)
    types_file, types_doc = read("datatypes.yaml", DataTypes, required=False)

    services: dict[str, Service] = {}
    service_docs: dict[str, tuple[Path, LocatedDocument]] = {}
    for file in sorted(folder.glob("*.y*ml")):
        if file.name in RESERVED_FILES:
            continue
        if file.suffix not in (".yaml", ".yml"):
            continue
        service, doc = _validate_file(file, Service, problems)
        if service is None or doc is None:
            continue
        if service.id in services:
            first = service_docs[service.id][0]
            pos = doc.locate(("id",))
            problems.append(
                Problem.located(
                    str(file),
                    pos,
                    "id",
                    f"duplicate service id, also declared in {first.name}",
                    service.id,
                )
            )
            continue
        services[service.id] = service
        service_docs[service.id] = (file, doc)

    data_types: dict[str, DataTypeTerm] = dict(BUILTIN_DATA_TYPES_BY_ID)
    kind_of: dict[str, str] = {}
    if types_file is not None and types_doc is not None:
        for i, decl in enumerate(types_file.types):
            where = types_doc.locate(("types", i, "id"))
            if decl.id in data_types:
                problems.append(
                    Problem.located(
                        str(folder / "datatypes.yaml"),
                        where,
                        f"types[{i}].id",
                        "duplicate data type id (already in the built-in vocabulary or this file)",
                        decl.id,
                    )
                )
                continue
            data_types[decl.id] = DataTypeTerm(decl.id, decl.label, decl.category, decl.definition)
            if decl.kind_of is not None:
                kind_of[decl.id] = decl.kind_of

    if info is None or regions is None or system is None:
        raise CatalogError(problems)

    ordered = _order(info, services, folder, problems)
    problems.extend(
        check_catalog(
            folder=folder,
            info=info,
            services=ordered,
            service_docs=service_docs,
            regions=regions,
            regions_doc=regions_doc,
            system=system,
            system_doc=system_doc,
            data_types=data_types,
            kind_of=kind_of,
            types_doc=types_doc,
        )
    )
    if problems:
        raise CatalogError(problems)
    return Catalog(
        info=info,
        services=ordered,
        regions_file=regions,
        system=system,
        data_types=data_types,
        kind_of=kind_of,
    )


def _order(
    info: CatalogInfo, services: Mapping[str, Service], folder: Path, problems: list[Problem]
) -> dict[str, Service]:
    ordered: dict[str, Service] = {}
    for i, sid in enumerate(info.order):
        if sid not in services:
            if (folder / f"{sid}.yaml").exists():
                continue  # the file exists but failed validation; its own problems say why
            problems.append(
                Problem(
                    str(folder / "catalog.yaml"),
                    None,
                    None,
                    f"order[{i}]",
                    "names a service with no file in the catalog",
                    sid,
                    closest(sid, services),
                )
            )
        else:
            ordered[sid] = services[sid]
    for sid in sorted(services):
        ordered.setdefault(sid, services[sid])
    return ordered


def _validate_file(
    file: Path, model: type[M], problems: list[Problem]
) -> tuple[M | None, LocatedDocument | None]:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(str(file), None, None, "", "is not UTF-8 text; save it as UTF-8"))
        return None, None
    try:
        value = parse_fast(text)
    except YamlSyntaxError:
        return _validate_located(file, text, model, problems)
    if not isinstance(value, dict):
        return _validate_located(file, text, model, problems)
    try:
        return model.model_validate(value), LazyLocatedDocument(text, value)
    except ValidationError:
        return _validate_located(file, text, model, problems)


def _validate_located(
    file: Path, text: str, model: type[M], problems: list[Problem]
) -> tuple[M | None, LocatedDocument | None]:
    """The slow path: parse with positions so that every problem can be located."""
    try:
        doc = parse_located(text)
    except YamlSyntaxError as exc:
        problems.append(Problem(str(file), exc.line, exc.column, "", str(exc)))
        return None, None
    for path, (line, col) in doc.duplicates:
        problems.append(
            Problem(
                str(file),
                line,
                col,
                _dotted(path),
                "duplicate key; each key may appear once per mapping",
            )
        )
    if doc.value is None:
        problems.append(Problem(str(file), 1, 1, "", "is empty; it must hold a mapping"))
        return None, None
    if not isinstance(doc.value, dict):
        problems.append(
            Problem(str(file), 1, 1, "", "must hold a mapping of fields at the top level")
        )
        return None, None
    try:
        obj = model.model_validate(doc.value)
    except ValidationError as exc:
        problems.extend(_problems_from(exc, file, doc))
        return None, None
    if doc.duplicates:
        return None, None
    return obj, doc


def _problems_from(exc: ValidationError, file: Path, doc: LocatedDocument) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(
            p for p in err["loc"] if not ((isinstance(p, str) and p[:1].isupper()) or "[" in str(p))
        )
        path: tuple[str | int, ...] = tuple(loc)
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            pos = doc.locate_key(path)
            field_name = str(path[-1]) if path else ""
            parent = _parent_model_fields(exc, path)
            out.append(
                Problem.located(
                    str(file),
                    pos,
                    _dotted(path),
                    "unknown field",
                    field_name,
                    closest(field_name, parent),
                )
            )
            continue
        pos = doc.locate(path)
        field_name = _last_name(path)
        vocabulary = _vocabulary(path, field_name)
        shown = _short(value) if kind != "missing" else None
        message = _message(err["msg"], kind, field_name, vocabulary)
        out.append(
            Problem.located(
                str(file),
                pos,
                _dotted(path),
                message,
                shown,
                closest(value, vocabulary) if vocabulary else None,
            )
        )
    return out


def _vocabulary(path: tuple[str | int, ...], field_name: str) -> tuple[str, ...]:
    if field_name == "kind" and path[:1] == ("rules",):
        return _RULE_KINDS  # a rule's kind, not a retention's
    return _FIELD_VOCABULARY.get(field_name, ())


def _message(msg: str, kind: str, field_name: str, vocabulary: tuple[str, ...]) -> str:
    if kind == "missing":
        return f"missing required field '{field_name}'"
    if kind in ("enum", "literal_error") and vocabulary:
        return f"not a valid {field_name}; use one of: {', '.join(vocabulary)}"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def _parent_model_fields(exc: ValidationError, path: tuple[str | int, ...]) -> tuple[str, ...]:
    from charter.catalog import model as m  # noqa: PLC0415 - local to keep the hot path lean

    names: set[str] = set()
    for cls in vars(m).values():
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            names.update(cls.model_fields)
    return tuple(sorted(names))


def _last_name(path: tuple[str | int, ...]) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
