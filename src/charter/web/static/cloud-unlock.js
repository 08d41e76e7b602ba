// My cloud: a device approves this browser session to open protected items (docs/cloud.md).
//
// The page makes an ephemeral X25519 key pair with @hpke/core (it lives in this page's memory
// only) and sends the public key; an approved device wraps the category keys to it (format
// CB 01: HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, info
// "charter.cloud.e2e.v1 session" 00 category 00 key id). The page opens the wraps, checks
// each key against its id and decrypts the items' envelopes (CE 01, AES-256-GCM) here.

import {
  Aes128Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256,
  HkdfSha256,
} from "/static/vendor/hpke/hpke-core.js";

const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes128Gcm(),
});
const root = document.getElementById("unlock");
const ask = document.getElementById("unlock-ask");
const status = document.getElementById("unlock-status");
const utf8 = (text) => new TextEncoder().encode(text);
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const b64d = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const say = (text) => {
  status.textContent = text;
};
const wait = (ms) => new Promise((done) => setTimeout(done, ms));

async function keyIdOf(raw) {
  const mac = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const full = new Uint8Array(await crypto.subtle.sign("HMAC", mac, utf8("charter.cloud.e2e.v1 key-id")));
  return hex(full.slice(0, 16));
}

async function openWraps(pair, wrapped) {
  const keys = new Map(); // key id (hex) -> AES-GCM CryptoKey
  for (const [category, blobs] of Object.entries(wrapped)) {
    for (const text of blobs) {
      const w = b64d(text);
      if (w[0] !== 0x43 || w[1] !== 0x42 || w[2] !== 0x01 || w.length !== 99) {
        throw new Error("a key in a format this page does not know");
      }
      const kid = w.slice(3, 19);
      const info = concat(utf8("charter.cloud.e2e.v1 session"), [0], utf8(category), [0], kid);
      const raw = new Uint8Array(
        await suite.open(
          { recipientKey: pair, enc: w.slice(19, 51).buffer, info: info.buffer },
          w.slice(51).buffer,
        ),
      );
      if ((await keyIdOf(raw)) !== hex(kid)) throw new Error("a key does not match its id");
      keys.set(hex(kid), await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]));
      raw.fill(0);
    }
  }
  return keys;
}

async function openItem(keys, place) {
  const answer = await fetch(`/cloud/items/${place.dataset.lockedItem}/sealed`, {
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!answer.ok) throw new Error("the item could not be fetched");
  const env = new Uint8Array(await answer.arrayBuffer());
  const key = keys.get(hex(env.slice(3, 19)));
  if (!key) {
    place.textContent = "Locked: under a key this session was not given";
    return;
  }
  const aad = concat(env.slice(0, 19), [0], utf8(place.dataset.category));
  const plain = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: env.slice(19, 31), additionalData: aad },
      key,
      env.slice(31),
    ),
  );
  const view = new DataView(plain.buffer);
  const n = view.getUint16(0);
  const name = new TextDecoder().decode(plain.slice(2, 2 + n));
  const m = view.getUint16(2 + n);
  const path = new TextDecoder().decode(plain.slice(4 + n, 4 + n + m));
  const content = plain.slice(4 + n + m);
  place.textContent = "";
  place.classList.remove("locked");
  place.dataset.opened = "yes";
  const label = document.createElement("strong");
  label.textContent = (path ? path + "/" : "") + (name || "(no name)");
  place.append("Opened here: ", label);
  let text = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch (e) {
    text = null;
  }
  if (text !== null && text.length <= 500) {
    const shown = document.createElement("q");
    shown.textContent = text;
    place.append(" ", shown);
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([content]));
  link.download = name || "item";
  link.textContent = "Download";
  place.append(" ", link);
}

async function unlock() {
  ask.disabled = true;
  const pair = await suite.kem.generateKeyPair();
  const pub = new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey));
  const asked = await fetch("/cloud/unlock", {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    body: new URLSearchParams({ csrf: root.dataset.csrf, public_key: hex(pub) }),
  });
  if (!asked.ok) throw new Error("the server refused the request");
  const request = await asked.json();
  root.dataset.unlock = request.id;
  say(
    `Approve on a device that holds your keys. It shows this browser as ${request.fingerprint}: ` +
      "check that the digits match.",
  );
  const ends = Date.now() + 10 * 60 * 1000;
  while (Date.now() < ends) {
    const polled = await fetch(`/cloud/unlock/${request.id}`, {
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!polled.ok) throw new Error("the request has ended");
    const state = await polled.json();
    if (state.approved) {
      const keys = await openWraps(pair, state.wrapped);
      const places = document.querySelectorAll("[data-locked-item]");
      for (const place of places) await openItem(keys, place);
      root.dataset.state = "unlocked";
      say(`Approved: ${places.length} protected item(s) opened in this browser.`);
      return;
    }
    await wait(1500);
  }
  say("No device approved in time; ask again.");
  ask.disabled = false;
}

ask.hidden = false;
ask.addEventListener("click", () => {
  unlock().catch((e) => {
    say(`Could not open the protected items: ${e.message}`);
    ask.disabled = false;
  });
});
