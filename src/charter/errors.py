"""
The one exception tree of Charter.

::

    CharterError                     code, message
    ├── CatalogError                 a catalog failed to load; .problems lists every one
    ├── ConfigError                  bad settings, missing keyring, unsafe database settings
    ├── InputError                   a request or argument is malformed (names the field)
    ├── RefusedError                 the gate refused (carries the policy reason code)
    ├── NotFoundError                a subject, record or resource does not exist
    ├── AuthError                    missing or bad credentials
    └── IntegrityError               tampering or corruption detected (audit chain, ciphertext)

Domain errors know nothing of HTTP; ``charter.api.errors`` maps them to status codes.
Messages never contain personal data.
"""

from __future__ import annotations

from dataclasses import dataclass


class CharterError(Exception):
    """Base of every error Charter raises on purpose."""

    code: str = "charter_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a catalog, with where it is and how to fix it."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    value: str | None = None
    suggestion: str | None = None

    @classmethod
    def located(
        cls,
        file: str,
        position: tuple[int, int] | None,
        path: str,
        message: str,
        value: str | None = None,
        suggestion: str | None = None,
    ) -> Problem:
        """A problem at ``position`` (line, column), or without one when it is unknown."""
        line, column = position if position is not None else (None, None)
        return cls(file, line, column, path, message, value, suggestion)

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        text = f"{where}: {self.path + ': ' if self.path else ''}{self.message}"
        if self.value is not None:
            text += f" (got {self.value!r})"
        if self.suggestion is not None:
            text += f"; did you mean {self.suggestion!r}?"
        return text


class CatalogError(CharterError):
    """A catalog could not be loaded; nothing of it was loaded."""

    code = "catalog_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the catalog has {len(self.problems)} problem(s):\n{lines}")


class ConfigError(CharterError):
    """Settings are missing, malformed or unsafe."""

    code = "config_invalid"


class InputError(CharterError):
    """A request or argument is malformed."""

    code = "invalid_input"


class RefusedError(CharterError):
    """The gate refused an operation; ``code`` is the policy reason."""

    code = "refused"


class NotFoundError(CharterError):
    """Something asked for does not exist."""

    code = "not_found"


class AuthError(CharterError):
    """Credentials are missing, malformed, expired or not allowed."""

    code = "unauthorized"


class IntegrityError(CharterError):
    """Tampering or corruption was detected."""

    code = "integrity_violation"
