"""
The search-suggestion proxy: what the person types in the Smart Address Bar goes to the
search engine, and the suggestions come back; the proxy keeps nothing — no table, no file,
no log line, no audit entry holds the text (a marker scan of every file proves it).

The rules a device must follow, and the proxy enforces on its side too:

- **incognito**: never ask for suggestions (refused: ``incognito``);
- **Smart Address Bar off**: ask nothing until the person starts a search (Enter or the
  search button); before that the proxy refuses (``smart_address_bar_off``);
- **addresses**: typed text that is a web address is not a search; it never leaves the
  device (refused: ``url_refused``).

The search engine here is simulated in-process (:class:`SimulatedSearchEngine`): a fixed
vocabulary, no network, no memory of what it was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from charter.errors import InputError, RefusedError
from charter.services.browser.kinds import refuse_urls

MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class SuggestionRequest:
    """What a device sends: the typed text and the browser's state."""

    text: str
    incognito: bool
    smart_address_bar: bool
    searching: bool = False
    """The person started the search (Enter or the search button)."""

    def __repr__(self) -> str:
        return (
            f"SuggestionRequest(text=***, incognito={self.incognito}, "
            f"smart_address_bar={self.smart_address_bar}, searching={self.searching})"
        )


class SearchEngine(Protocol):
    """Where suggestions come from."""

    def suggest(self, text: str) -> list[str]:
        """Completions of ``text``."""
        ...


VOCABULARY = (
    "weather", "weather tomorrow", "news", "news today", "football scores", "football",
    "recipes", "recipes with rice", "train times", "translate", "time zones", "maps",
    "music", "movies", "movie times", "cricket", "cricket scores", "currency converter",
)  # fmt: skip


class SimulatedSearchEngine:
    """An in-process stand-in for the search engine: completions from a fixed vocabulary.
    It counts the calls it answered (so tests see whether it was asked) and nothing else."""

    def __init__(self) -> None:
        self.calls = 0

    def suggest(self, text: str) -> list[str]:
        self.calls += 1
        prefix = text.strip().lower()
        found = [w for w in VOCABULARY if w.startswith(prefix)] if prefix else []
        return found[:8]


def suggestion_refusal(request: SuggestionRequest) -> RefusedError | None:
    """The refusal the rules give a request, or None when the engine may be asked."""
    if request.incognito:
        return RefusedError(
            "no search suggestions are requested in incognito mode; the device must not ask",
            code="incognito",
            field="incognito",
        )
    if not request.smart_address_bar and not request.searching:
        return RefusedError(
            "the Smart Address Bar is off: nothing goes to the search engine until the person "
            "starts a search",
            code="smart_address_bar_off",
            field="smart_address_bar",
        )
    return None


def suggest(engine: SearchEngine, request: SuggestionRequest) -> list[str]:
    """
    Ask the engine for suggestions, keeping nothing.

    Raises:
        InputError: empty or too long text.
        RefusedError: incognito, the Smart Address Bar off before a search, or an address.
    """
    refused = suggestion_refusal(request)
    if refused is not None:
        raise refused
    if not request.text.strip() or len(request.text) > MAX_TEXT:
        raise InputError(f"text is 1-{MAX_TEXT} characters", field="text")
    refuse_urls(request.text, "text")
    return engine.suggest(request.text)
