"""
Table of Mi Pay (control database): the tokenisation vault's index of cards added before the
vault entry held its own token (migration 0021's time; see :mod:`.vault`). Such a card's
number and expiry are gate records (encrypted with the person's data key); this row maps the
token the apps use to those records, with the card's keyed pseudonym (HMAC-SHA-256 under the
deployment's key). New cards write no row here. Keyed by the subject first.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

cards = Table(
    "pay_cards",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("token", String(40), primary_key=True, comment="The card's token (tok_...)."),
    Column("number_record", String(40), nullable=False, comment="Gate record of the number."),
    Column("valid_to_record", String(40), nullable=False, comment="Gate record of the expiry."),
    Column(
        "pseudonym",
        String(40),
        nullable=False,
        comment="Keyed pseudonym of the number (cp_...), as transaction records show it.",
    ),
    Column("created_at", BigInteger, nullable=False),
    comment="Tokenised cards: token to encrypted gate records (no card data here).",
)

register_table(
    cards,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("token", "number_record", "valid_to_record", "pseudonym", "created_at"),
    erase=Erase.DELETE,
)
