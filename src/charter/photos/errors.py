"""The one exception the photo stripper raises for bad input, with stable codes."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable reasons why a photo could not be stripped."""

    EMPTY = "empty"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    UNSUPPORTED = "unsupported_format"
    TOO_LARGE = "too_large"


_FIXES: dict[ErrorCode, str] = {
    ErrorCode.EMPTY: "the file has no content; share the original photo again",
    ErrorCode.TRUNCATED: "the file was cut short (interrupted copy or download); "
    "copy the original again",
    ErrorCode.CORRUPT: "the file is damaged; open and re-save it in a photo app, "
    "or share another copy",
    ErrorCode.UNSUPPORTED: "only JPEG, PNG, WebP and HEIC/HEIF photos are supported; "
    "convert it to one of these first",
    ErrorCode.TOO_LARGE: "a metadata block is larger than Charter accepts; "
    "re-save the photo without its metadata in a photo app",
}


class PhotoFormatError(ValueError):
    """A photo cannot be stripped because its bytes are not a valid supported image.

    ``code`` is one of :class:`ErrorCode` and is stable across releases; ``message``
    names the file, the problem and how to fix it. It never contains metadata values.
    """

    def __init__(self, code: ErrorCode, problem: str, *, name: str = "<input>") -> None:
        self.code: ErrorCode = code
        self.problem = problem
        self.name = name
        super().__init__(self.message)

    @property
    def fix(self) -> str:
        """A short hint telling the user what to do."""
        return _FIXES[self.code]

    @property
    def message(self) -> str:
        """One readable line: file, problem, fix."""
        return f"{self.name}: {self.problem}; {self.fix}"

    def renamed(self, name: str) -> PhotoFormatError:
        """The same error attributed to another file name."""
        return PhotoFormatError(self.code, self.problem, name=name)

    def __reduce__(self) -> tuple[object, ...]:
        """Keep the error picklable across a process pool."""
        return (_rebuild, (self.code.value, self.problem, self.name))


def _rebuild(code: str, problem: str, name: str) -> PhotoFormatError:
    return PhotoFormatError(ErrorCode(code), problem, name=name)
