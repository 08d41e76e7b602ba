"""
Account deletion as the Privacy Center performs it: the rights engine's R5, which first
deletes every row the services registered for erasure (:mod:`charter.store.registry`:
sessions, identifiers, staff roles, ...), so sign-in fails at once, then crypto-shreds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from charter.app import Charter
    from charter.rights import Rights


def delete_account(charter: Charter, rights: Rights, subject_id: str) -> str:
    """
    Delete an account completely; returns the deletion request's id.

    Raises:
        NotFoundError: no such subject.
    """
    charter.gate.subject(subject_id)
    return rights.delete_account(subject_id, actor="subject")
