"""Mi Video's catalog promises: it has no ``service`` rules (its gate rule is kept by the
gate's policy; its device rules by the device, with the server refusing what they forbid)."""

from __future__ import annotations

ENFORCERS: frozenset[str] = frozenset()
"""The enforcer ids this package registers (none: no ``service`` rules)."""
