"""
What changed between two catalog versions, classified for "material change" decisions.

A change is *material* (users must re-consent before collection resumes) when a service
starts collecting a new data type, uses data for a new purpose, keeps it longer, weakens its
protection, or shares it with a new third party, or when a promise (a catalog rule) is
widened or withdrawn (see :mod:`charter.catalog.rulediff`). Removals, shorter retention and
new or narrowed promises are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from charter.catalog.catalog import Catalog
from charter.catalog.model import InventoryRow, Service
from charter.catalog.rulediff import rule_changes
from charter.taxonomy import AtRest, RetentionKind


class ChangeKind(StrEnum):
    """The kinds of change between two catalogs."""

    SERVICE_ADDED = "service_added"
    SERVICE_REMOVED = "service_removed"
    ROW_ADDED = "row_added"
    ROW_REMOVED = "row_removed"
    PURPOSE_ADDED = "purpose_added"
    PURPOSE_REMOVED = "purpose_removed"
    RETENTION_LONGER = "retention_longer"
    RETENTION_SHORTER = "retention_shorter"
    PROTECTION_WEAKER = "protection_weaker"
    PROTECTION_STRONGER = "protection_stronger"
    THIRD_PARTY_ADDED = "third_party_added"
    THIRD_PARTY_REMOVED = "third_party_removed"
    MARKETS_CHANGED = "markets_changed"
    RULE_ADDED = "rule_added"
    RULE_NARROWED = "rule_narrowed"
    RULE_WIDENED = "rule_widened"
    RULE_REMOVED = "rule_removed"
    RULE_CHANGED = "rule_changed"
    RULE_REWORDED = "rule_reworded"


MATERIAL = frozenset(
    {
        ChangeKind.SERVICE_ADDED,
        ChangeKind.ROW_ADDED,
        ChangeKind.PURPOSE_ADDED,
        ChangeKind.RETENTION_LONGER,
        ChangeKind.PROTECTION_WEAKER,
        ChangeKind.THIRD_PARTY_ADDED,
        ChangeKind.RULE_WIDENED,
        ChangeKind.RULE_REMOVED,
        ChangeKind.RULE_CHANGED,
    }
)

# Stronger protections rank higher.
_STRENGTH = {
    AtRest.PLAIN: 0,
    AtRest.KEYED_HASH: 2,
    AtRest.FIELD_ENCRYPTION: 2,
    AtRest.PASSWORD_HASH: 3,
    AtRest.NOT_STORED: 4,
}


@dataclass(frozen=True, slots=True)
class Change:
    """One change, with the service and data type it concerns and a readable description."""

    kind: ChangeKind
    service: str
    data_type: str | None
    detail: str

    @property
    def material(self) -> bool:
        """Whether this change requires re-consent."""
        return self.kind in MATERIAL


def _retention_days(row: InventoryRow) -> float:
    if row.retention.kind is RetentionKind.NOT_STORED:
        return 0.0
    if row.retention.kind is RetentionKind.DAYS:
        return float(row.retention.days or 0)
    return float("inf")


def _by_key(service: Service) -> dict[tuple[str, str], InventoryRow]:
    return {(r.type, r.qualifier.value): r for r in service.inventory}


def _third_parties(service: Service) -> set[tuple[str, str, str]]:
    return {
        (p.recipient, t, p.purpose.value)
        for f in service.functions
        for p in f.third_parties
        for t in p.types
    }


def diff_catalogs(old: Catalog, new: Catalog) -> list[Change]:
    """Every change from ``old`` to ``new``, in service order."""
    changes: list[Change] = []
    for sid in old.services.keys() - new.services.keys():
        changes.append(Change(ChangeKind.SERVICE_REMOVED, sid, None, f"service {sid} removed"))
    for sid, service in new.services.items():
        if sid not in old.services:
            changes.append(
                Change(
                    ChangeKind.SERVICE_ADDED,
                    sid,
                    None,
                    f"service {sid} added with {len(service.inventory)} rows",
                )
            )
            continue
        changes.extend(_diff_service(old.services[sid], service))
    for kind, sid, _rule, detail in rule_changes(old, new):
        changes.append(Change(ChangeKind(kind), sid, None, detail))
    return changes


def _diff_service(old: Service, new: Service) -> list[Change]:
    sid = new.id
    out: list[Change] = []
    if old.markets != new.markets:
        out.append(Change(ChangeKind.MARKETS_CHANGED, sid, None, "market availability changed"))
    old_rows, new_rows = _by_key(old), _by_key(new)
    for key in old_rows.keys() - new_rows.keys():
        out.append(
            Change(ChangeKind.ROW_REMOVED, sid, key[0], f"{key[0]} ({key[1]}) no longer collected")
        )
    for key, row in new_rows.items():
        before = old_rows.get(key)
        if before is None:
            purposes = ", ".join(p.value for p in row.purposes)
            out.append(
                Change(
                    ChangeKind.ROW_ADDED,
                    sid,
                    key[0],
                    f"{key[0]} ({key[1]}) newly collected for {purposes}",
                )
            )
            continue
        for p in sorted(set(row.purposes) - set(before.purposes)):
            out.append(
                Change(
                    ChangeKind.PURPOSE_ADDED, sid, key[0], f"{key[0]} now also used for {p.value}"
                )
            )
        for p in sorted(set(before.purposes) - set(row.purposes)):
            out.append(
                Change(
                    ChangeKind.PURPOSE_REMOVED,
                    sid,
                    key[0],
                    f"{key[0]} no longer used for {p.value}",
                )
            )
        old_days, new_days = _retention_days(before), _retention_days(row)
        if new_days > old_days:
            out.append(
                Change(
                    ChangeKind.RETENTION_LONGER,
                    sid,
                    key[0],
                    f"{key[0]} kept longer: {before.retention.label} -> {row.retention.label}",
                )
            )
        elif new_days < old_days:
            out.append(
                Change(
                    ChangeKind.RETENTION_SHORTER,
                    sid,
                    key[0],
                    f"{key[0]} kept shorter: {before.retention.label} -> {row.retention.label}",
                )
            )
        old_strength, new_strength = _STRENGTH[before.protection], _STRENGTH[row.protection]
        if new_strength < old_strength:
            out.append(
                Change(
                    ChangeKind.PROTECTION_WEAKER,
                    sid,
                    key[0],
                    f"{key[0]} protection weakened: {before.protection.value} -> {row.protection.value}",
                )
            )
        elif new_strength > old_strength:
            out.append(
                Change(
                    ChangeKind.PROTECTION_STRONGER,
                    sid,
                    key[0],
                    f"{key[0]} protection strengthened: {before.protection.value} -> {row.protection.value}",
                )
            )
    old_tp, new_tp = _third_parties(old), _third_parties(new)
    for recipient, type_id, purpose in sorted(new_tp - old_tp):
        out.append(
            Change(
                ChangeKind.THIRD_PARTY_ADDED,
                sid,
                type_id,
                f"{type_id} now shared with {recipient} for {purpose}",
            )
        )
    for recipient, type_id, purpose in sorted(old_tp - new_tp):
        out.append(
            Change(
                ChangeKind.THIRD_PARTY_REMOVED,
                sid,
                type_id,
                f"{type_id} no longer shared with {recipient} for {purpose}",
            )
        )
    return out
