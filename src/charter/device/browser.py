"""
The browser of one space.

- Normal tabs share the space's history, downloads record, form data and cookies.
- **Incognito** tabs each keep their own state in memory only (tabs do not share it): no
  history, downloads record, form data or cookie change reaches the disk, and it all ends
  when the browser exits.
- **Search suggestions**: never requested from an incognito tab; with the Smart Address Bar
  off nothing goes to the search engine until the person starts a search; nothing of a
  suggestion request is kept.
- **Do Not Track** and **Global Privacy Control** headers go with every request when the
  person asks for them.
- The addresses of visited pages stay on the device: the browser gives the usage reporter
  counts only.
- **Clearing history** deletes it here and, with sync on, asks the server to clear it on the
  person's other devices (:data:`ClearElsewhere`); a ``clear_browser_history`` command from
  another device clears it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from charter.device.db import set_setting, setting
from charter.device.space import Space

SearchEngine = Callable[[str], list[str]]
"""A search-suggestion provider: the typed text → suggestions (a network call)."""

ClearElsewhere = Callable[[], None]
"""Asks the server to clear history on the person's other devices."""


@dataclass
class Tab:
    """A browser tab; an incognito tab holds its state in memory only."""

    incognito: bool
    history: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[tuple[str, str]] = field(default_factory=list)
    forms: dict[tuple[str, str], str] = field(default_factory=dict)
    cookies: dict[tuple[str, str], str] = field(default_factory=dict)
    open: bool = True


class Browser:
    """The browser of one space."""

    def __init__(
        self,
        space: Space,
        *,
        engine: SearchEngine | None = None,
        clear_elsewhere: ClearElsewhere | None = None,
    ) -> None:
        self.space = space
        self.conn = space.conn
        self.engine = engine
        self.clear_elsewhere = clear_elsewhere
        self.tabs: list[Tab] = []
        self.visits = 0

    # -- settings ---------------------------------------------------------------------------

    def _flag(self, key: str, default: bool) -> bool:
        return setting(self.conn, f"browser.{key}", "1" if default else "0") == "1"

    def set_option(self, key: str, on: bool) -> None:
        """``smart_address_bar``, ``do_not_track``, ``gpc`` or ``sync``."""
        set_setting(self.conn, f"browser.{key}", "1" if on else "0")

    @property
    def smart_address_bar(self) -> bool:
        """Suggestions while typing (on by default, as the vendor ships it)."""
        return self._flag("smart_address_bar", True)

    @property
    def sync(self) -> bool:
        """History sync with the person's account."""
        return self._flag("sync", False)

    def headers(self) -> dict[str, str]:
        """The privacy headers every request carries."""
        out: dict[str, str] = {}
        if self._flag("do_not_track", False):
            out["DNT"] = "1"
        if self._flag("gpc", False):
            out["Sec-GPC"] = "1"
        return out

    # -- tabs -------------------------------------------------------------------------------

    def open_tab(self, *, incognito: bool = False) -> Tab:
        """A new tab."""
        tab = Tab(incognito)
        self.tabs.append(tab)
        return tab

    def visit(self, tab: Tab, url: str, title: str = "") -> dict[str, str]:
        """Load a page; returns the headers sent."""
        self.visits += 1
        if tab.incognito:
            tab.history.append((url, title))
        else:
            self.conn.execute(
                "insert into history (at, url, title) values (?, ?, ?)",
                (self.space.clock(), url, title),
            )
        return self.headers()

    def download(self, tab: Tab, url: str, name: str) -> None:
        """Download a file (an incognito tab records nothing)."""
        if tab.incognito:
            tab.downloads.append((url, name))
            return
        self.conn.execute(
            "insert into downloads (at, url, name) values (?, ?, ?)",
            (self.space.clock(), url, name),
        )

    def fill(self, tab: Tab, site: str, name: str, value: str) -> None:
        """Form data the person typed (remembered for autofill outside incognito)."""
        if tab.incognito:
            tab.forms[(site, name)] = value
            return
        self.conn.execute(
            "insert into forms (site, field, value) values (?, ?, ?) "
            "on conflict (site, field) do update set value = excluded.value",
            (site, name, value),
        )

    def set_cookie(self, tab: Tab, site: str, name: str, value: str) -> None:
        """A site sets a cookie."""
        if tab.incognito:
            tab.cookies[(site, name)] = value
            return
        self.conn.execute(
            "insert into cookies (site, name, value) values (?, ?, ?) "
            "on conflict (site, name) do update set value = excluded.value",
            (site, name, value),
        )

    def cookie(self, tab: Tab, site: str, name: str) -> str | None:
        """A cookie as the tab sees it (incognito tabs see only their own)."""
        if tab.incognito:
            return tab.cookies.get((site, name))
        row = self.conn.execute(
            "select value from cookies where site = ? and name = ?", (site, name)
        ).fetchone()
        return str(row[0]) if row else None

    def history(self) -> list[tuple[str, str]]:
        """The kept history (never an incognito visit)."""
        return [
            (r[0], r[1]) for r in self.conn.execute("select url, title from history order by id")
        ]

    def exit(self) -> None:
        """The browser process ends: every incognito tab and its state is gone."""
        for tab in self.tabs:
            tab.open = False
            tab.history.clear()
            tab.downloads.clear()
            tab.forms.clear()
            tab.cookies.clear()
        self.tabs = []

    # -- suggestions ------------------------------------------------------------------------

    def suggestions(self, tab: Tab, typed: str, *, searching: bool = False) -> list[str]:
        """
        Search suggestions for what the person typed. Nothing is asked in incognito; with
        the Smart Address Bar off nothing is asked until the person starts a search
        (``searching``); the answer is returned, never kept.
        """
        if tab.incognito or self.engine is None or not typed:
            return []
        if not self.smart_address_bar and not searching:
            return []
        return list(self.engine(typed))

    # -- clearing ---------------------------------------------------------------------------

    def clear_history(self, *, everywhere: bool = True) -> int:
        """Clear the history here; with sync on (and ``everywhere``), on the person's other
        devices too. Returns how many entries went here."""
        gone = self.clear_local()
        if everywhere and self.sync and self.clear_elsewhere is not None:
            self.clear_elsewhere()
        return gone

    def clear_local(self) -> int:
        """Clear the history kept here (a command from another device does this)."""
        return int(self.conn.execute("delete from history").rowcount)

    def usage(self) -> dict[str, int]:
        """What the browser gives the usage reporter: counts, never an address."""
        return {"pages_visited": self.visits}
