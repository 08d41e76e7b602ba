"""
Cloud sync on the device, both ways, through :class:`~charter.client.CloudClient`.

Items of the person's cloud live in the owner's space (``local_data`` under ``cloud``) with
their metadata in ``cloud_items``: category, the server version the local copy is based on,
whether it changed here (``dirty``) or was deleted here, and the server version it conflicts
with. Pull brings the server's changes (a change to an item edited here is not applied: it
is reported as a conflict). Push sends what changed here: new items, edits and deletions,
each conditional on the version it is based on (``If-Match``); the server refuses a stale
one and the device reports the conflict. Nothing is ever overwritten on either side until
the person resolves it (:meth:`CloudSync.resolve`: keep this device's copy, or the cloud's).

Categories under advanced protection (issue 15's end-to-end keys) are encrypted here before
they leave and decrypted here when they come down, with :class:`ProtectedCloud` of
:mod:`charter.client.protection` (the device's X25519 key lives in the owner's encrypted
space). A device not approved for a category yet keeps its changes of that category here
(``Pushed.locked``) and takes none of the cloud's (it never stores ciphertext as content);
once another device approves it (or the recovery key opens the keys), the next sync does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from charter.client import ApiError, CloudClient, ConflictError, Item
from charter.client.protection import DeviceKey, LockedError, ProtectedCloud
from charter.device.db import Connection, set_setting, setting
from charter.device.space import Space
from charter.errors import InputError, NotFoundError

CLOUD = "cloud"
LOCAL = "local-"
"""The prefix of an item made here and not uploaded yet."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """An item changed both here and in the cloud."""

    item_id: str
    base_version: int
    cloud_version: int


@dataclass(slots=True)
class Pushed:
    """What a push did."""

    uploaded: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    """Items of a protected category this device holds no key of yet (kept here)."""


def protected_cloud(conn: Connection, cloud: CloudClient) -> ProtectedCloud:
    """This device's end-to-end side: its X25519 key made once and kept in the owner's
    encrypted space (never in a plain file; a factory reset destroys it with the space)."""
    device_id, raw = setting(conn, "e2e_device_id"), setting(conn, "e2e_key")
    if device_id is None or raw is None:
        made = DeviceKey.create()
        device_id = made.device_id
        raw = made.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
        set_setting(conn, "e2e_key", raw)
        set_setting(conn, "e2e_device_id", device_id)
    key = DeviceKey(device_id, X25519PrivateKey.from_private_bytes(bytes.fromhex(raw)))
    return ProtectedCloud(cloud, key)


def _item(item_id: str, category: str, version: int) -> Item:
    return Item(item_id, category, version, "live", 0, 0, 0, None)


class CloudSync:
    """One space's copy of the person's cloud."""

    def __init__(
        self, space: Space, cloud: CloudClient, protected: ProtectedCloud | None = None
    ) -> None:
        self.space = space
        self.conn: Connection = space.conn
        self.cloud = cloud
        self.protected = protected
        """This device's end-to-end side (None: no category is ever encrypted here)."""
        self.protected_categories: frozenset[str] = frozenset()
        """The categories under advanced protection, as of the last pull."""
        self.locked: list[str] = []
        """Cloud items of a protected category not taken at the last pull (no key yet)."""

    def _encrypted(self, category: str) -> bool:
        return self.protected is not None and category in self.protected_categories

    def _refresh_protection(self) -> None:
        if self.protected is None:
            return
        found = frozenset(self.protected.status().get("protected", {}))
        if found and setting(self.conn, "e2e_registered") != "1":
            self.protected.register()
            set_setting(self.conn, "e2e_registered", "1")
        self.protected_categories = found

    # -- changes made here ------------------------------------------------------------------

    def add(self, category: str, content: bytes) -> str:
        """A new item made on the device (uploaded at the next push); its local id."""
        item_id = LOCAL + secrets.token_hex(8)
        self.space.put(CLOUD, item_id, content)
        self.conn.execute(
            "insert into cloud_items (id, category, version, dirty) values (?, ?, 0, 1)",
            (item_id, category),
        )
        return item_id

    def _row(self, item_id: str) -> tuple[str, int, int, int, int | None]:
        row = self.conn.execute(
            "select category, version, dirty, deleted, conflict_version from cloud_items "
            "where id = ?",
            (item_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("no such cloud item on this device", code="not_found")
        return str(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4]

    def edit(self, item_id: str, content: bytes) -> None:
        """
        Change an item here (sent at the next push, based on the version synced last).

        Raises:
            NotFoundError: no such item on this device.
            InputError: the item was deleted here.
        """
        if self._row(item_id)[3]:
            raise InputError("this item was deleted on the device", field="item_id")
        self.space.put(CLOUD, item_id, content)
        self.conn.execute("update cloud_items set dirty = 1 where id = ?", (item_id,))

    def remove(self, item_id: str) -> None:
        """Delete an item here (deleted in the cloud at the next push, if unchanged there)."""
        self._row(item_id)
        self.conn.execute("delete from local_data where service = ? and key = ?", (CLOUD, item_id))
        if item_id.startswith(LOCAL):
            self.conn.execute("delete from cloud_items where id = ?", (item_id,))
        else:
            self.conn.execute(
                "update cloud_items set dirty = 1, deleted = 1 where id = ?", (item_id,)
            )

    def conflicts(self) -> list[Conflict]:
        """Every item waiting for the person to choose a side."""
        rows = self.conn.execute(
            "select id, version, conflict_version from cloud_items "
            "where conflict_version is not null order by id"
        ).fetchall()
        return [Conflict(str(r[0]), int(r[1]), int(r[2])) for r in rows]

    def resolve(self, item_id: str, *, keep: str) -> None:
        """
        Settle a conflict: ``keep="device"`` sends this copy at the next push, based on the
        cloud's version; ``keep="cloud"`` takes the cloud's copy now.

        Raises:
            InputError: ``keep`` is neither, or the item is not in conflict.
        """
        if keep not in ("device", "cloud"):
            raise InputError('keep is "device" or "cloud"', field="keep")
        conflict = self._row(item_id)[4]
        if conflict is None:
            raise InputError("this item is not in conflict", field="item_id")
        if keep == "device":
            self.conn.execute(
                "update cloud_items set version = ?, conflict_version = null where id = ?",
                (conflict, item_id),
            )
        else:
            self.conn.execute(
                "update cloud_items set dirty = 0, deleted = 0, conflict_version = null, "
                "version = ? where id = ?",
                (conflict, item_id),
            )
            self._take(item_id)

    # -- pull and push ---------------------------------------------------------------------

    def _take(self, item_id: str, category: str | None = None) -> bool:
        """The cloud's copy of an item, here (gone here when gone there); False when the
        item is of a protected category this device holds no key of (nothing stored)."""
        if category is None:
            category = self._row(item_id)[0]
        try:
            if self._encrypted(category):
                assert self.protected is not None
                content = self.protected.download(_item(item_id, category, 0)).content
            else:
                content = self.cloud.download(item_id)
        except LockedError:
            return False
        except ApiError as error:
            if error.status != 404:
                raise
            self._forget(item_id)
            return True
        self.space.put(CLOUD, item_id, content)
        return True

    def _forget(self, item_id: str) -> None:
        self.conn.execute("delete from local_data where service = ? and key = ?", (CLOUD, item_id))
        self.conn.execute("delete from cloud_items where id = ?", (item_id,))

    def pull(self) -> int:
        """Apply the cloud's changes since the last pull; how many were applied (a change to
        an item changed here too is recorded as a conflict instead)."""
        since = setting(self.conn, "cloud_token", "0") or "0"
        self._refresh_protection()
        self.locked = []
        applied = 0
        for change in self.cloud.all_changes(since):
            found = self.conn.execute(
                "select version, dirty from cloud_items where id = ?", (change.id,)
            ).fetchone()
            if found is not None and int(found[1]):
                if int(found[0]) != change.version:
                    self.conn.execute(
                        "update cloud_items set conflict_version = ? where id = ?",
                        (change.version, change.id),
                    )
                continue
            if found is not None and int(found[0]) == change.version and change.state == "live":
                continue  # this device's own upload, or already here
            if change.state == "live":
                if not self._take(change.id, change.category):
                    self.locked.append(change.id)
                    continue
                self.conn.execute(
                    "insert into cloud_items (id, category, version) values (?, ?, ?) "
                    "on conflict (id) do update set version = excluded.version",
                    (change.id, change.category, change.version),
                )
            else:
                self._forget(change.id)
            applied += 1
        if not self.locked:  # else the same changes come again once this device has the key
            set_setting(self.conn, "cloud_token", self.cloud.last_token)
        return applied

    def push(self) -> Pushed:
        """Send what changed here, each conditional on its version; conflicts are reported
        and left as they are on both sides."""
        done = Pushed()
        rows = self.conn.execute(
            "select id, category, version, deleted from cloud_items "
            "where dirty = 1 and conflict_version is null order by id"
        ).fetchall()
        for item_id, category, version, deleted in rows:
            base = _item(str(item_id), str(category), int(version))
            try:
                if item_id.startswith(LOCAL):
                    content = self.space.get(CLOUD, item_id) or b""
                    made = (
                        self.protected.upload(category, content)
                        if self.protected is not None and self._encrypted(category)
                        else self.cloud.upload(category, content)
                    )
                    self.space.put(CLOUD, made.id, content)
                    self._forget(item_id)
                    self.conn.execute(
                        "insert into cloud_items (id, category, version) values (?, ?, ?)",
                        (made.id, made.category, made.version),
                    )
                    done.uploaded.append(made.id)
                elif deleted:
                    self.cloud.delete(base)
                    self._forget(item_id)
                    done.deleted.append(item_id)
                else:
                    content = self.space.get(CLOUD, item_id) or b""
                    now = (
                        self.protected.update(base, content)
                        if self.protected is not None and self._encrypted(category)
                        else self.cloud.update(base, content)
                    )
                    self.conn.execute(
                        "update cloud_items set version = ?, dirty = 0 where id = ?",
                        (now.version, item_id),
                    )
                    done.updated.append(item_id)
            except LockedError:
                done.locked.append(item_id)
            except ConflictError as conflict:
                self.conn.execute(
                    "update cloud_items set conflict_version = ? where id = ?",
                    (conflict.current.version, item_id),
                )
                done.conflicts.append(Conflict(item_id, int(version), conflict.current.version))
        return done
