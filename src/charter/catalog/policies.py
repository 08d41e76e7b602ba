"""
Versioned privacy policies: text files in the catalog folder.

``policies/general/<n>.md`` is the general policy and ``policies/<service>/<n>.md`` each
service's; ``n`` is the version (1, 2, ...) and the highest is current. A policy is
identified for consent by its SHA-256 content hash, so a record proves which exact text a
person agreed to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from charter.catalog.loader import builtin_catalog_path
from charter.errors import NotFoundError

GENERAL = "general"
"""The scope of the general policy."""


@dataclass(frozen=True, slots=True)
class Policy:
    """One version of a policy."""

    scope: str
    version: int
    content_hash: str
    path: Path

    @property
    def text(self) -> str:
        """The policy text (Markdown)."""
        return self.path.read_text(encoding="utf-8")


class PolicyLibrary:
    """The policies of one catalog folder."""

    def __init__(self, catalog_folder: Path | None) -> None:
        self.root = (catalog_folder or builtin_catalog_path()) / "policies"

    def scopes(self) -> list[str]:
        """Every scope with at least one version (``general`` first)."""
        if not self.root.is_dir():
            return []
        found = sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))
        return sorted(found, key=lambda s: (s != GENERAL, s))

    def versions(self, scope: str) -> list[Policy]:
        """Every version of a scope, oldest first."""
        folder = self.root / scope
        if not folder.is_dir():
            return []
        out = []
        for path in folder.glob("*.md"):
            if path.stem.isdigit():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out.append(Policy(scope, int(path.stem), digest, path))
        return sorted(out, key=lambda p: p.version)

    def current(self, scope: str) -> Policy:
        """
        The current (highest) version of a scope.

        Raises:
            NotFoundError: the scope has no policy.
        """
        versions = self.versions(scope)
        if not versions:
            raise NotFoundError(f"no policy for {scope!r}", field="scope")
        return versions[-1]

    def version(self, scope: str, version: int) -> Policy:
        """
        One version of a scope.

        Raises:
            NotFoundError: no such version.
        """
        for p in self.versions(scope):
            if p.version == version:
                return p
        raise NotFoundError("no such policy version", field="version")
