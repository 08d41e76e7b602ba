"""
The privacy report: the access records of a space as a Rich dashboard, and as NDJSON in the
shape of Apple's App Privacy Report ("Inspecting app activity data", developer.apple.com),
so tools that read that report read this one. Each access becomes an ``intervalBegin`` and an
``intervalEnd`` line of ``"type": "access"`` sharing one ``identifier``; the declared purpose,
the permission and foreground/background go in an extra ``charter`` object.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from charter.device.access import Access
from charter.device.permissions import PERMISSIONS


def timestamp(at_us: int) -> str:
    """ISO 8601 with milliseconds and the offset, as the report writes times."""
    moment = datetime.fromtimestamp(at_us / 1_000_000, tz=UTC)
    return moment.isoformat(timespec="milliseconds")


def access_lines(records: Iterable[Access]) -> Iterator[dict[str, object]]:
    """The report's dictionaries for access records."""
    for r in records:
        perm = PERMISSIONS.get(r.permission)
        base = {
            "accessor": {"identifier": r.app, "identifierType": "bundleID"},
            "category": perm.category if perm else r.permission,
            "identifier": r.id,
            "type": "access",
            "charter": {
                "permission": r.permission,
                "purpose": r.purpose,
                "foreground": r.foreground,
                "notice": r.notice,
            },
        }
        yield {**base, "kind": "intervalBegin", "timeStamp": timestamp(r.at)}
        yield {**base, "kind": "intervalEnd", "timeStamp": timestamp(r.at)}


def ndjson(records: Iterable[Access]) -> str:
    """The report as newline-delimited JSON."""
    return "".join(json.dumps(line, sort_keys=True) + "\n" for line in access_lines(records))


def dashboard(records: list[Access], console: Console) -> None:
    """Per app and permission: how many accesses, when last, for what, in the background."""
    table = Table(title=f"Privacy report: {len(records)} accesses (last 30 days, this device only)")
    for column in ("App", "Permission", "Purpose", "Accesses", "Background", "Last"):
        table.add_column(column)
    counts = Counter((r.app, r.permission, r.purpose) for r in records)
    background = Counter((r.app, r.permission, r.purpose) for r in records if not r.foreground)
    last = {(r.app, r.permission, r.purpose): r.at for r in records}
    for key in sorted(counts):
        app, perm, purpose = key
        table.add_row(
            app, perm, purpose, str(counts[key]), str(background[key]), timestamp(last[key])
        )
    console.print(table)
