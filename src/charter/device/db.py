"""
A space's encrypted database: SQLCipher (through ``sqlcipher3``), keyed with a raw 256-bit
key, so every page on disk (and in its journal) is AES-256 ciphertext with an HMAC. A wrong
key reads nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlcipher3

from charter.errors import AuthError

SCHEMA = """
create table if not exists settings (key text primary key, value text not null);
create table if not exists apps (
  app text primary key, manifest text not null, installed_at integer not null,
  last_used_at integer not null, autostart integer not null default 0,
  notifications integer not null default 1);
create table if not exists grants (
  app text not null, permission text not null, grant text not null, granted_at integer not null,
  primary key (app, permission));
create table if not exists access (
  id text primary key, at integer not null, app text not null, permission text not null,
  purpose text not null, foreground integer not null, notice integer not null default 0);
create index if not exists access_at on access (at);
create table if not exists local_data (
  service text not null, key text not null, value blob not null, primary key (service, key));
create table if not exists history (
  id integer primary key, at integer not null, url text not null, title text not null);
create table if not exists downloads (
  id integer primary key, at integer not null, url text not null, name text not null);
create table if not exists forms (
  site text not null, field text not null, value text not null, primary key (site, field));
create table if not exists cookies (
  site text not null, name text not null, value text not null, primary key (site, name));
create table if not exists biometrics (
  kind text primary key, features blob not null, enrolled_at integer not null);
create table if not exists spaces (
  name text primary key, salt blob not null, nonce blob not null, wrapped blob not null,
  created_at integer not null);
create table if not exists notifications (
  id integer primary key, at integer not null, app text not null, title text not null,
  body text not null);
"""


Connection = Any
"""A ``sqlcipher3`` connection (the library ships no type hints)."""


def open_db(path: Path, key: bytes) -> Connection:
    """
    Open (or make) an encrypted database with ``key``.

    Raises:
        AuthError: the key does not open this database (``wrong_key``).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"pragma key = \"x'{key.hex()}'\"")
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise AuthError("this space's key does not open its data", code="wrong_key") from exc
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = normal")
    conn.execute("pragma secure_delete = on")
    conn.executescript(SCHEMA)
    return conn


def setting(conn: Connection, key: str, default: str | None = None) -> str | None:
    """A setting of the space."""
    row = conn.execute("select value from settings where key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_setting(conn: Connection, key: str, value: str) -> None:
    """Change a setting of the space."""
    conn.execute(
        "insert into settings (key, value) values (?, ?) "
        "on conflict (key) do update set value = excluded.value",
        (key, value),
    )
