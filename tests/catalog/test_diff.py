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


def _rule_changes(old: Catalog, new: Catalog) -> set[tuple[str, ChangeKind, bool, str]]:
    return {
        (c.service, c.kind, c.material, c.detail)
        for c in diff_catalogs(old, new)
        if c.kind.value.startswith("rule_")
    }


def test_rule_changes_are_classified(builtin: Catalog, catalog_copy: Path) -> None:
    _edit(
        catalog_copy,
        "get_apps.yaml",
        'function: points_mall, only: ["in"]',
        'function: points_mall, only: ["in", "ru"]',
    )
    _edit(
        catalog_copy,
        "get_apps.yaml",
        'purpose: personalization, except: ["es"]',
        'purpose: personalization, except: ["es", "id"]',
    )
    _edit(
        catalog_copy,
        "pay.yaml",
        "never_stored: [card_cvv]",
        "never_stored: [card_cvv, face_features]",
    )
    _edit(
        catalog_copy,
        "cloud.yaml",
        "  - id: no_content_analysis\n    kind: statement\n",
        "  - id: no_content_analysis\n    kind: device\n",
    )
    _edit(
        catalog_copy,
        "video.yaml",
        "  - id: short_video_hashed_gaid\n",
        "  - id: no_ads_for_minors\n    kind: statement\n    description: No ads target children.\n"
        "  - id: short_video_hashed_gaid\n",
    )
    new = load_catalog(catalog_copy)
    assert _rule_changes(builtin, new) == {
        ("get_apps", ChangeKind.RULE_WIDENED, True, "promise get_apps.points_mall_markets widened"),
        (
            "get_apps",
            ChangeKind.RULE_NARROWED,
            False,
            "promise get_apps.recommendations_market_exclusion narrowed",
        ),
        ("pay", ChangeKind.RULE_NARROWED, False, "promise pay.cvv_never_stored narrowed"),
        ("cloud", ChangeKind.RULE_CHANGED, True, "promise cloud.no_content_analysis changed"),
        ("video", ChangeKind.RULE_ADDED, False, "promise video.no_ads_for_minors added"),
    }
    back = _rule_changes(new, builtin)
    assert (
        "get_apps",
        ChangeKind.RULE_NARROWED,
        False,
        "promise get_apps.points_mall_markets narrowed",
    ) in back
    assert ("pay", ChangeKind.RULE_WIDENED, True, "promise pay.cvv_never_stored widened") in back
    assert (
        "video",
        ChangeKind.RULE_REMOVED,
        True,
        "promise video.no_ads_for_minors removed",
    ) in back


def test_a_widened_rule_over_other_services_is_material_for_each(
    builtin: Catalog, catalog_copy: Path
) -> None:
    _edit(
        catalog_copy,
        "ai_technology.yaml",
        "  - id: no_training_on_user_data\n    kind: gate\n",
        "  - id: no_training_on_user_data\n    kind: statement\n",
    )
    _edit(
        catalog_copy,
        "ai_technology.yaml",
        "    gate: {refuse_purposes: [model_training], services: all}\n",
        "",
    )
    new = load_catalog(catalog_copy)
    widened = {c.service for c in diff_catalogs(builtin, new) if c.kind is ChangeKind.RULE_WIDENED}
    assert widened == set(builtin.services)
    _edit(
        catalog_copy,
        "ai_technology.yaml",
        "    description: User data is never used",
        "    description: User data is rarely used",
    )
    reworded = load_catalog(catalog_copy)
    assert {c.kind for c in diff_catalogs(new, reworded)} == {ChangeKind.RULE_CHANGED}
