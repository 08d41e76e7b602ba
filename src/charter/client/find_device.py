"""
Find Device on the device's side and the owner's side, over HTTP only.

:class:`FindDeviceAgent` is the reference device: it keeps its own Ed25519 key and state in
its own file (no globals, so a device runtime can embed several), activates with the owner's
access token, long-polls for commands, checks each command's owner signature, device, nonce
and expiry before acting, acknowledges, and seals positions to the owner's key: on request
(rule ``locate_on_request_only``) and, in lost mode, at the fixed interval
(``lost_mode_periodic_location``). It refuses to switch Find Device off while lost mode is on
(``off_requires_leaving_lost_mode``) and takes back lost mode after an erase or a reset
(``lost_mode_survives_reset``). :class:`FindDeviceOwner` is the owner's side (the CLI uses it).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from charter.client.find_device_crypto import (
    MICROS,
    OwnerKeyFile,
    Position,
    b64d,
    b64e,
    canonical,
    seal_position,
    verify,
)
from charter.client.http import Transport, error_of

ROOT = "/v1/find-device"
KEY_CHANGE_WAIT = 7 * 86_400 * MICROS
"""A new owner key not endorsed by the old one is adopted after this long (recovery)."""


def _now() -> int:
    return time.time_ns() // 1000


class LostModeOnError(Exception):
    """Find Device cannot be switched off while lost mode is on."""


class FindDeviceAgent:
    """One device's Find Device, with its state in ``state_path`` (0600)."""

    def __init__(
        self,
        base_url: str,
        state_path: Path,
        identifiers: dict[str, str],
        locate: Callable[[], Position],
        *,
        clock: Callable[[], int] = _now,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url
        self.state_path = state_path
        self.identifiers = dict(identifiers)
        self.locate = locate
        self.clock = clock
        self.http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=120)
        self.state: dict[str, Any] = self._load()
        self.rang = 0
        """How many times a ring command rang the phone."""

    # -- state -------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.state_path.read_bytes()))
        except FileNotFoundError:
            return {}

    def _save(self) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(canonical(self.state))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)

    @property
    def device_id(self) -> str | None:
        return self.state.get("device_id")

    @property
    def lost(self) -> dict[str, Any] | None:
        """Lost mode as the lock screen shows it (message, phone, interval), or None."""
        return self.state.get("lost")

    @property
    def locked(self) -> bool:
        return bool(self.state.get("locked"))

    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(b64d(self.state["device_key"]))

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def _request(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.state.get('token', '')}"}
        response = self.http.request(method, ROOT + path, headers=headers, **kw)
        if response.status_code not in (200, 201):
            raise error_of(response)
        return response.json() if response.content else None

    # -- activation, off, reset ----------------------------------------------------------------

    def activate(self, owner_token: str, *, phone_number: str | None = None) -> dict[str, Any]:
        """
        Switch Find Device on: a new device key (the private part stays in the state file),
        registered with the owner's access token. A device bound to another account is
        refused (:class:`~charter.client.ApiError` ``bound_to_another_account``).
        """
        key = Ed25519PrivateKey.generate()
        body: dict[str, Any] = {
            "identifiers": self.identifiers,
            "device_key": b64e(key.public_key().public_bytes_raw()),
        }
        if phone_number:
            body["phone_number"] = phone_number
        answer = self._request("POST", "/activate", token=owner_token, json=body)
        self.state = {
            "device_key": b64e(key.private_bytes_raw()),
            "device_id": answer["device_id"],
            "token": answer["token"],
            "owner": answer["owner"],
            "seen": {},
            "lost": None,
            "locked": False,
        }
        self._restore_lost(answer)
        self._save()
        return dict(answer)

    def _restore_lost(self, answer: dict[str, Any]) -> None:
        found = answer.get("lost_command")
        if not answer.get("lost") or not found:
            return
        payload, signature = b64d(found["payload"]), b64d(found["signature"])
        if not verify(b64d(self.state["owner"]["sign_public"]), signature, payload):
            return
        body = json.loads(payload)
        self._enter_lost_mode(body.get("args", {}))

    def switch_off(self) -> None:
        """Switch Find Device off on the device (refused while lost mode is on)."""
        if self.lost:
            raise LostModeOnError("leave lost mode (from the owner's account) first")
        self._request("POST", "/device/off")

    def factory_reset(self) -> None:
        """Wipe the device: its keys and state are gone (the binding stays on the server)."""
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()
        self.state = {}

    # -- commands ------------------------------------------------------------------------------

    def poll(self, wait: float = 0) -> list[tuple[str, str]]:
        """Fetch and carry out pending commands (long-polling up to ``wait`` seconds);
        returns (command kind, outcome) for each."""
        answer = self._request("GET", "/device/commands", params={"wait": wait})
        self._owner_keys(answer.get("owner"))
        done = []
        for item in answer.get("commands", []):
            done.append(self.handle(item["id"], b64d(item["payload"]), b64d(item["signature"])))
            if not self.state:
                break  # erased
        return done

    def _owner_keys(self, offered: dict[str, Any] | None) -> None:
        pinned = self.state.get("owner")
        if not offered or not pinned or offered["sign_public"] == pinned["sign_public"]:
            if offered and pinned and offered["seal_public"] != pinned["seal_public"]:
                pinned["seal_public"] = offered["seal_public"]
                self._save()
            return
        endorsement = offered.get("endorsement")
        message = canonical(
            {"seal_public": offered["seal_public"], "sign_public": offered["sign_public"]}
        )
        endorsed = endorsement is not None and verify(
            b64d(pinned["sign_public"]), b64d(endorsement), message
        )
        if endorsed or self.clock() - int(offered["since"]) >= KEY_CHANGE_WAIT:
            self.state["owner"] = offered
            self._save()

    def check(self, payload: bytes, signature: bytes) -> dict[str, Any] | str:
        """The command's body if it may be carried out, else the reason it is refused."""
        owner = self.state.get("owner")
        if not owner or not verify(b64d(owner["sign_public"]), signature, payload):
            return "bad_signature"
        body = json.loads(payload)
        if body.get("device") != self.device_id:
            return "wrong_device"
        now = self.clock()
        if not isinstance(body.get("expires_at"), int) or body["expires_at"] <= now:
            return "expired"
        seen: dict[str, int] = self.state.setdefault("seen", {})
        if body.get("nonce") in seen:
            return "replayed"
        for nonce, until in list(seen.items()):
            if until <= now:
                del seen[nonce]
        seen[str(body.get("nonce"))] = int(body["expires_at"])
        self._save()
        return dict(body)

    def handle(self, command_id: str, payload: bytes, signature: bytes) -> tuple[str, str]:
        """Check and carry out one command, and acknowledge it."""
        body = self.check(payload, signature)
        if isinstance(body, str):
            with contextlib.suppress(Exception):
                self._ack(command_id, f"refused:{body}")
            return "unknown", f"refused:{body}"
        kind = body["cmd"]
        if kind == "locate":
            self.report("locate", command_id)
            return kind, "done"
        if kind == "ring":
            self.rang += 1
        elif kind == "lock":
            self.state["locked"] = True
        elif kind == "lost_mode_on":
            self._enter_lost_mode(body.get("args", {}))
        elif kind == "lost_mode_off":
            self.state["lost"] = None
        self._save() if kind != "erase" else None
        self._ack(command_id, "done")
        if kind == "lost_mode_on":
            self.tick()
        if kind == "erase":
            self.crypto_erase()
        return kind, "done"

    def _enter_lost_mode(self, args: dict[str, Any]) -> None:
        self.state["lost"] = {
            "message": str(args.get("message", "")),
            "phone": str(args.get("phone", "")),
            "interval_s": int(args.get("interval_s", 900)),
            "next_at": self.clock(),
        }
        self.state["locked"] = True

    def crypto_erase(self) -> None:
        """Remote erase: the device's keys are destroyed (overwritten, then removed)."""
        with contextlib.suppress(FileNotFoundError):
            size = self.state_path.stat().st_size
            with self.state_path.open("r+b") as f:
                f.write(os.urandom(size))
                f.flush()
                os.fsync(f.fileno())
            self.state_path.unlink()
        self.state = {}

    def _ack(self, command_id: str, outcome: str) -> None:
        self._request("POST", f"/device/commands/{command_id}/ack", json={"outcome": outcome})

    # -- reports -------------------------------------------------------------------------------

    def report(self, kind: str, command_id: str | None = None) -> list[str]:
        """Seal the current position to the owner and send it (one signed batch)."""
        return self.send_batch([(kind, command_id, self.locate())])

    def send_batch(self, entries: list[tuple[str, str | None, Position]]) -> list[str]:
        """Send many sealed positions in one batch signed with the device's key."""
        return self.post_batch(self.seal_batch(entries))

    def post_batch(self, body: dict[str, Any]) -> list[str]:
        """Send a batch :meth:`seal_batch` made."""
        return list(self._request("POST", "/device/reports", json=body)["ids"])

    def seal_batch(self, entries: list[tuple[str, str | None, Position]]) -> dict[str, Any]:
        """Seal positions to the owner and sign the batch (nothing is sent)."""
        key = self._key()
        owner_seal = b64d(self.state["owner"]["seal_public"])
        now = self.clock()
        items = [
            {
                "kind": kind,
                "command": command_id,
                "at": now,
                "sealed": b64e(
                    seal_position(
                        owner_seal,
                        key,
                        pos,
                        device_id=self.device_id or "",
                        at=now,
                        command_id=command_id,
                    )
                ),
            }
            for kind, command_id, pos in entries
        ]
        message = canonical({"device": self.device_id, "reports": items})
        return {"reports": items, "sig": b64e(key.sign(message))}

    def tick(self) -> int:
        """In lost mode, send the position when its interval has come; returns reports sent."""
        lost = self.state.get("lost")
        if not lost or self.clock() < lost["next_at"]:
            return 0
        self.report("lost")
        lost["next_at"] = self.clock() + lost["interval_s"] * MICROS
        self._save()
        return 1


class FindDeviceOwner:
    """The owner's side over HTTP: keys, devices, signed commands, history, decryption."""

    def __init__(
        self, base_url: str, token: str, keys: OwnerKeyFile, *, clock: Callable[[], int] = _now
    ) -> None:
        self.transport = Transport(base_url, token)
        self.keys = keys
        self.clock = clock

    def close(self) -> None:
        self.transport.close()

    def register(self) -> dict[str, Any]:
        """Register the owner's public keys (the private keys stay in the key file)."""
        body = {
            "seal_public": b64e(self.keys.seal_public),
            "sign_public": b64e(self.keys.sign_public),
        }
        return dict(self.transport.request("PUT", ROOT + "/owner", json=body).json())

    def devices(self) -> list[dict[str, Any]]:
        return list(self.transport.request("GET", ROOT + "/devices").json()["devices"])

    def send(self, device_id: str, cmd: str, **args: Any) -> dict[str, Any]:
        """Sign and queue a command (locate, ring, lock, erase, lost_mode_on/off)."""
        payload, signature = self.keys.command(cmd, device_id, self.clock(), args=args)
        body = {"payload": b64e(payload), "signature": b64e(signature)}
        path = f"{ROOT}/devices/{device_id}/commands"
        return dict(self.transport.request("POST", path, json=body).json())

    def switch_off(self, device_id: str) -> dict[str, Any]:
        return dict(self.transport.request("POST", f"{ROOT}/devices/{device_id}/off").json())

    def history(self) -> dict[str, Any]:
        """Commands and sealed reports, each report opened with the owner's key."""
        answer = dict(self.transport.request("GET", ROOT + "/history").json())
        keys = {d["id"]: b64d(d["device_key"]) for d in self.devices()}
        for report in answer["reports"]:
            sealed = b64d(report["sealed"])
            try:
                report["position"] = self.keys.open(sealed, keys.get(report["device_id"]))
                report["verified"] = True
            except ValueError:
                try:  # signed by the device's key before a reset, or not for this key
                    report["position"] = self.keys.open(sealed)
                    report["verified"] = False
                except ValueError as exc:
                    report["position"] = None
                    report["error"] = str(exc)
        return answer
