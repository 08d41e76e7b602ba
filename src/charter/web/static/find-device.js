// Find my device, in the browser (docs/find_device.md).
//
// The owner's keys are made here (WebCrypto: X25519 for HPKE, Ed25519 for commands) and
// leave this browser only wrapped: AES-256-GCM under a key derived from the passphrase with
// PBKDF2-SHA256 (600,000 rounds). Commands are signed here; sealed positions are opened here
// with @hpke/core (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode, the same
// info as the device) and the device's signature inside each one is checked here.
// The server sees public keys, the wrapped blob, signed commands and ciphertext only.

import {
  Aes128Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256,
  HkdfSha256,
} from "/static/vendor/hpke/hpke-core.js";

const INFO = new TextEncoder().encode("charter find-device position v1");
const WRAP_AAD = new TextEncoder().encode("charter find-device owner keys v1");
const ROUNDS = 600000;
const PKCS8 = {
  Ed25519: "302e020100300506032b657004220420",
  X25519: "302e020100300506032b656e04220420",
};
const MICROS = 1000;
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes128Gcm(),
});

const root = document.getElementById("fd");
const csrf = root.dataset.csrf;
const status = document.getElementById("fd-key-status");
let state = null; // what /find-device/data answered
let keys = null; // {seal: CryptoKeyPair (HPKE), sign: CryptoKey (Ed25519)} once unlocked
let offset = 0; // server clock minus this browser's, in microseconds

// -- bytes -----------------------------------------------------------------------------------

const b64e = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const b64d = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const hex = (text) => Uint8Array.from(text.match(/../g), (h) => parseInt(h, 16));
const utf8 = (text) => new TextEncoder().encode(text);
const concat = (a, b) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const b64url = (bytes) => b64e(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

// The canonical JSON both sides sign: sorted keys, no spaces, UTF-8 (integers and strings only).
function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
}

// -- server calls (the session cookie and its CSRF token, like every form here) ---------------

async function call(method, path, fields) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (fields) {
    const body = new URLSearchParams({ csrf, ...fields });
    init.body = body;
  }
  const response = await fetch(path, init);
  const type = response.headers.get("content-type") || "";
  if (!type.includes("application/json")) {
    throw new Error("This page has expired; reload it and try again.");
  }
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(answer.error ? answer.error.message : "The server refused the request.");
  }
  return answer;
}

async function load() {
  const before = Date.now();
  state = await call("GET", "/find-device/data");
  offset = state.now - Math.round(((before + Date.now()) / 2) * MICROS);
}

const now = () => Math.round(Date.now() * MICROS) + offset;

// -- keys ------------------------------------------------------------------------------------

async function passphraseKey(passphrase, salt, rounds) {
  const base = await crypto.subtle.importKey("raw", utf8(passphrase), "PBKDF2", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: rounds },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function rawPrivate(key) {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  return pkcs8.slice(pkcs8.length - 32);
}

async function usable(sealRaw, sealPublic, signRaw) {
  const seal = {
    privateKey: await suite.kem.importKey("raw", sealRaw.buffer, false),
    publicKey: await suite.kem.importKey("raw", sealPublic.buffer, true),
  };
  const sign = await crypto.subtle.importKey(
    "pkcs8",
    concat(hex(PKCS8.Ed25519), signRaw),
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  return { seal, sign };
}

async function setUp(passphrase) {
  const x = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
  const e = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const sealRaw = await rawPrivate(x.privateKey);
  const signRaw = await rawPrivate(e.privateKey);
  const sealPublic = new Uint8Array(await crypto.subtle.exportKey("raw", x.publicKey));
  const signPublic = new Uint8Array(await crypto.subtle.exportKey("raw", e.publicKey));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapKey = await passphraseKey(passphrase, salt, ROUNDS);
  const inner = utf8(canonical({ seal: b64e(sealRaw), sign: b64e(signRaw), v: 1 }));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: WRAP_AAD }, wrapKey, inner);
  const wrapped = canonical({
    ct: b64e(ct),
    iter: ROUNDS,
    iv: b64e(iv),
    kdf: "PBKDF2-SHA256",
    salt: b64e(salt),
    v: 1,
  });
  const fields = {
    seal_public: b64e(sealPublic),
    sign_public: b64e(signPublic),
    wrapped: b64e(utf8(wrapped)),
  };
  if (keys && state.owner) {
    // The old signing key endorses the new keys, so the devices adopt them at once.
    const message = utf8(canonical({ seal_public: fields.seal_public, sign_public: fields.sign_public }));
    fields.endorsement = b64e(await crypto.subtle.sign("Ed25519", keys.sign, message));
  }
  await call("POST", "/find-device/owner", fields);
  keys = await usable(sealRaw, sealPublic, signRaw);
  await load();
}

async function unlock(passphrase) {
  const blob = JSON.parse(new TextDecoder().decode(b64d(state.owner.wrapped)));
  if (blob.v !== 1 || blob.kdf !== "PBKDF2-SHA256") throw new Error("Unknown key format.");
  const wrapKey = await passphraseKey(passphrase, b64d(blob.salt), blob.iter);
  let inner;
  try {
    inner = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: b64d(blob.iv), additionalData: WRAP_AAD },
      wrapKey,
      b64d(blob.ct),
    );
  } catch {
    throw new Error("That passphrase does not open your keys; check it and try again.");
  }
  const found = JSON.parse(new TextDecoder().decode(inner));
  keys = await usable(b64d(found.seal), b64d(state.owner.seal_public), b64d(found.sign));
}

// -- commands --------------------------------------------------------------------------------

async function send(deviceId, cmd, args) {
  const issued = now();
  const payload = utf8(
    canonical({
      args,
      cmd,
      device: deviceId,
      expires_at: issued + 600 * 1000000,
      issued_at: issued,
      nonce: b64url(crypto.getRandomValues(new Uint8Array(18))),
      v: 1,
    }),
  );
  const signature = await crypto.subtle.sign("Ed25519", keys.sign, payload);
  return call("POST", `/find-device/devices/${deviceId}/commands`, {
    payload: b64e(payload),
    signature: b64e(signature),
  });
}

async function answerOf(commandId) {
  for (let round = 0; round < 8; round++) {
    const found = await call("GET", `/find-device/commands/${commandId}?wait=20`);
    if (found.reports.length || found.command.acked_at !== null) return found;
  }
  return null;
}

// -- positions -------------------------------------------------------------------------------

// Opens one sealed position and checks the device's signature inside it. The plaintext is
// the canonical JSON of the position plus "sig", which sorts last: the signed bytes are the
// plaintext without it.
async function openSealed(sealedB64, deviceKeyB64) {
  const sealed = b64d(sealedB64);
  const plain = await suite.open(
    { recipientKey: keys.seal, enc: sealed.slice(0, 32).buffer, info: INFO.buffer },
    sealed.slice(32).buffer,
  );
  const text = new TextDecoder().decode(plain);
  const at = text.lastIndexOf(',"sig":"');
  if (at < 0 || !text.endsWith('"}')) throw new Error("not a sealed position");
  const signed = utf8(text.slice(0, at) + "}");
  const sig = b64d(text.slice(at + 8, -2));
  let verified = false;
  if (deviceKeyB64) {
    const key = await crypto.subtle.importKey("raw", b64d(deviceKeyB64), { name: "Ed25519" }, false, [
      "verify",
    ]);
    verified = await crypto.subtle.verify("Ed25519", key, sig, signed);
  }
  return { position: JSON.parse(text), verified };
}

const when = (micros) => new Date(micros / MICROS).toISOString().slice(0, 16).replace("T", " ") + " UTC";

function describe(opened) {
  const p = opened.position;
  const check = opened.verified ? "signed by the device" : "not signed by the device's current key";
  return `${p.lat}, ${p.lon} (within ${Math.round(p.acc)} m) at ${when(p.at)}, ${check}`;
}

const deviceKey = (id) => (state.devices.find((d) => d.id === id) || {}).key;

// -- the page --------------------------------------------------------------------------------

function say(element, text) {
  element.textContent = text;
}

function needKeys(result) {
  if (keys) return false;
  say(result, "Unlock your keys first (your passphrase, at the top of the page).");
  const field = document.getElementById(state.owner && state.owner.wrapped ? "fd-pass" : "fd-pass1");
  field.focus();
  return true;
}

function argsOf(form) {
  const args = {};
  for (const [name, value] of new FormData(form)) {
    if (name === "confirm") continue;
    args[name] = name === "interval_s" ? parseInt(value, 10) : String(value);
  }
  return args;
}

const WORDS = {
  ring: "The device rang.",
  lock: "The device is locked.",
  erase: "The device erased its keys.",
  lost_mode_on: "Lost mode is on.",
  lost_mode_off: "Lost mode is off.",
};

async function command(form) {
  const item = form.closest(".fd-device");
  const deviceId = item.dataset.device;
  const result = document.getElementById(`result-${deviceId}`);
  if (needKeys(result)) return;
  const cmd = form.dataset.cmd;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    say(result, cmd === "locate" ? "Asking the device where it is…" : "Sending…");
    const sent = await send(deviceId, cmd, cmd.startsWith("lost_mode_on") ? argsOf(form) : {});
    const found = await answerOf(sent.id);
    if (!found) {
      say(result, "The device has not answered yet; it answers when it is next online.");
    } else if (cmd === "locate" && found.reports.length) {
      const opened = await openSealed(found.reports[0].sealed, deviceKey(deviceId));
      say(result, "Your device is at " + describe(opened) + ".");
    } else if ((found.command.outcome || "").startsWith("refused")) {
      say(result, "The device refused the command (" + found.command.outcome.slice(8) + ").");
    } else {
      say(result, WORDS[cmd] || "Done.");
    }
  } catch (error) {
    say(result, error.message);
  } finally {
    button.disabled = false;
  }
}

async function showPositions() {
  const list = document.getElementById("fd-positions");
  list.replaceChildren();
  if (needKeys(status)) return;
  await load();
  if (!state.reports.length) {
    const li = document.createElement("li");
    li.textContent = "No positions yet.";
    list.append(li);
  }
  for (const report of state.reports) {
    const li = document.createElement("li");
    li.className = "row";
    const kind = report.kind === "locate" ? "Located on request" : "Lost mode report";
    try {
      li.textContent = `${kind}: ${describe(await openSealed(report.sealed, deviceKey(report.device_id)))}`;
    } catch {
      li.textContent = `${kind} received ${when(report.received_at)}: sealed to keys you no longer have.`;
    }
    list.append(li);
  }
}

function wire() {
  const setup = document.getElementById("fd-setup");
  const unlockForm = document.getElementById("fd-unlock");
  setup.addEventListener("submit", async (event) => {
    event.preventDefault();
    const one = document.getElementById("fd-pass1").value;
    const two = document.getElementById("fd-pass2").value;
    if (one.length < 12) return say(status, "Choose a passphrase of 12 characters or more.");
    if (one !== two) return say(status, "The two passphrases differ; type the same one twice.");
    say(status, "Making your keys…");
    try {
      await setUp(one);
      setup.hidden = true;
      unlockForm.hidden = true;
      say(status, "Your keys are set up and unlocked. Your passphrase stayed in this browser.");
    } catch (error) {
      say(status, error.message);
    }
  });
  unlockForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(status, "Opening your keys…");
    try {
      await unlock(document.getElementById("fd-pass").value);
      unlockForm.hidden = true;
      say(status, "Your keys are unlocked in this browser until you leave the page.");
    } catch (error) {
      say(status, error.message);
    }
  });
  const reset = document.getElementById("fd-reset");
  if (reset) {
    reset.addEventListener("click", () => {
      setup.hidden = false;
      document.getElementById("fd-pass1").focus();
    });
  }
  for (const form of document.querySelectorAll("form.fd-command")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      command(form);
    });
  }
  document.getElementById("fd-show").addEventListener("click", () => {
    showPositions().catch((error) => say(status, error.message));
  });
}

wire();
load().then(
  () => root.setAttribute("data-ready", "yes"),
  (error) => say(status, error.message),
);
