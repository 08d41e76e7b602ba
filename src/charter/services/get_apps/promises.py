"""The Get Apps service's catalog promises (its ``service`` rules) and the code that keeps
each; the tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "get_apps.masked_reviewer_names": "reviews.public_review: a review's nickname is masked "
    "for every viewer but its author, on every listing",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
