"""
What user-facing text must not contain: internal notes about the reference ("the seed"),
placeholders and editor's marks (issue 11: "which the seed does not name" reached the
rendered paper and the Privacy Center).
"""

from __future__ import annotations

import re

INTERNAL_NOTES = re.compile(
    r"\bseed\b|\bthe seed's\b|does not (?:name|list) exactly|\bTODO\b|\bFIXME\b|\bXXX\b"
    r"|\bkept n/a\b|\bTBD\b",
    re.IGNORECASE,
)
"""Words of notes for the catalog's authors, never for the people reading it."""


def internal_notes(text: str) -> list[str]:
    """Each internal note in ``text``, with a little context."""
    return [
        text[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
        for m in INTERNAL_NOTES.finditer(text)
    ]
