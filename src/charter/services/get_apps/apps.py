"""The store's catalogue: fixed, non-personal; every listed app passed the security audit."""

from __future__ import annotations

from dataclasses import dataclass

from charter.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class App:
    """One app of the store."""

    id: str
    name: str
    category: str
    audited: bool = True


APPS: tuple[App, ...] = (
    App("a_notes", "Quick Notes", "productivity"),
    App("a_tasks", "Task Board", "productivity"),
    App("a_mail", "Swift Mail", "productivity"),
    App("a_chess", "Chess Club", "games"),
    App("a_puzzle", "Block Puzzle", "games"),
    App("a_racer", "Street Racer", "games"),
    App("a_radio", "Web Radio", "music"),
    App("a_tuner", "Guitar Tuner", "music"),
    App("a_maps", "Trail Maps", "travel"),
    App("a_trains", "Train Times", "travel"),
)

BY_ID = {a.id: a for a in APPS}
PRIZES: dict[str, int] = {"wallpaper_pack": 50, "data_voucher": 200, "cloud_month": 300}
"""Points Mall prizes and what each costs."""


def app(app_id: str) -> App:
    """
    An app by id.

    Raises:
        NotFoundError: no such app.
    """
    found = BY_ID.get(app_id)
    if found is None:
        raise NotFoundError("no such app", field="app_id")
    return found
