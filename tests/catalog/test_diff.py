"""Catalog diff: every kind of change is found and classified as material or not."""

from __future__ import annotations

from pathlib import Path

from charter.catalog import Catalog, load_catalog
from charter.catalog.diff import ChangeKind, diff_catalogs


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_identical_catalogs_have_no_changes(builtin: Catalog) -> None:
    assert diff_catalogs(builtin, builtin) == []


def test_changes_are_classified(builtin: Catalog, catalog_copy: Path) -> None:
    _edit(
        catalog_copy,
        "cloud.yaml",
        "type: notes, qualifier: identified, purposes: [app_functionality]",
        "type: notes, qualifier: identified, purposes: [app_functionality, analytics]",
    )
    _edit(catalog_copy, "themes.yaml", "retention: {days: 90}", "retention: {days: 30}")
    _edit(catalog_copy, "account.yaml", "at_rest: sha_1", "at_rest: plain")
    new = load_catalog(catalog_copy)
    kinds = {(c.service, c.kind): c.material for c in diff_catalogs(builtin, new)}
    assert kinds[("cloud", ChangeKind.PURPOSE_ADDED)] is True
    assert kinds[("themes", ChangeKind.RETENTION_SHORTER)] is False
    assert kinds[("account", ChangeKind.PROTECTION_WEAKER)] is True
    reverse = {(c.service, c.kind) for c in diff_catalogs(new, builtin)}
    assert ("cloud", ChangeKind.PURPOSE_REMOVED) in reverse
    assert ("account", ChangeKind.PROTECTION_STRONGER) in reverse


def test_service_added_and_removed(builtin: Catalog, catalog_copy: Path) -> None:
    (catalog_copy / "video.yaml").unlink()
    _edit(catalog_copy, "catalog.yaml", "get_apps, browser, video,", "get_apps, browser,")
    smaller = load_catalog(catalog_copy)
    assert {(c.service, c.kind) for c in diff_catalogs(builtin, smaller)} == {
        ("video", ChangeKind.SERVICE_REMOVED)
    }
    added = diff_catalogs(smaller, builtin)
    assert [(c.kind, c.material) for c in added] == [(ChangeKind.SERVICE_ADDED, True)]
