"""The store's resources: a fixed, non-personal catalogue (themes, wallpapers, ringtones,
fonts), each with a few tags that recommendations match on."""

from __future__ import annotations

from dataclasses import dataclass

from charter.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource of the store."""

    id: str
    kind: str
    name: str
    tags: tuple[str, ...]
    price_cents: int


RESOURCES: tuple[Resource, ...] = (
    Resource("t_aurora", "theme", "Aurora", ("dark", "nature"), 0),
    Resource("t_paper", "theme", "Paper", ("light", "minimal"), 199),
    Resource("t_neon", "theme", "Neon city", ("dark", "city"), 299),
    Resource("w_fjord", "wallpaper", "Fjord at dawn", ("nature", "light"), 0),
    Resource("w_forest", "wallpaper", "Night forest", ("nature", "dark"), 0),
    Resource("w_grid", "wallpaper", "Blue grid", ("minimal", "city"), 99),
    Resource("w_skyline", "wallpaper", "Skyline", ("city", "dark"), 0),
    Resource("r_chime", "ringtone", "Glass chime", ("minimal",), 0),
    Resource("r_birds", "ringtone", "Morning birds", ("nature",), 49),
    Resource("f_serif", "font", "Book serif", ("light", "minimal"), 149),
)

BY_ID = {r.id: r for r in RESOURCES}


def resource(resource_id: str) -> Resource:
    """
    A resource by id.

    Raises:
        NotFoundError: no such resource.
    """
    found = BY_ID.get(resource_id)
    if found is None:
        raise NotFoundError("no such resource", field="resource_id")
    return found
