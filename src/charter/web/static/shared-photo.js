// A shared photo under advanced protection, opened in the browser (see docs/cloud.md).
// The photo key is in the URL fragment (#k=...), which the browser never sends to a server.
// Format SP 01: "SP" 01 | nonce (12) | AES-256-GCM(media type length (1) | media type | image),
// associated data "SP" 01.
"use strict";
(function () {
  const main = document.getElementById("shared-photo");
  const status = document.getElementById("shared-photo-status");
  const image = document.getElementById("shared-photo-image");
  const MAGIC = [0x53, 0x50, 0x01];

  function fail(text) {
    status.textContent = text;
    main.dataset.state = "failed";
  }

  function keyBytes() {
    const found = /(?:^|&)k=([A-Za-z0-9_-]{43})(?:&|$)/.exec(location.hash.slice(1));
    if (!found) return null;
    const text = found[1].replace(/-/g, "+").replace(/_/g, "/") + "=";
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.length === 32 ? out : null;
  }

  async function open() {
    const raw = keyBytes();
    if (raw === null) {
      fail("This link is missing its key: copy the whole link, including the part after #.");
      return;
    }
    const answer = await fetch(location.pathname + "/sealed", {
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    if (!answer.ok) {
      fail("This link does not exist or has ended.");
      return;
    }
    const sealed = new Uint8Array(await answer.arrayBuffer());
    if (sealed.length < 32 || MAGIC.some((b, i) => sealed[i] !== b)) {
      fail("This shared photo is in a format this page does not know.");
      return;
    }
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
    let plain;
    try {
      plain = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: sealed.slice(3, 15), additionalData: new Uint8Array(MAGIC) },
          key,
          sealed.slice(15),
        ),
      );
    } catch (e) {
      fail("The key in this link does not open the photo.");
      return;
    }
    const n = plain[0];
    const type = new TextDecoder().decode(plain.slice(1, 1 + n));
    if (!/^image\/[a-z0-9.+-]+$/.test(type)) {
      fail("This shared photo is in a format this page does not know.");
      return;
    }
    image.onload = function () {
      status.textContent = "The photo, decrypted in your browser.";
      main.dataset.state = "shown";
    };
    image.onerror = function () {
      fail("Your browser cannot show this photo.");
    };
    image.src = URL.createObjectURL(new Blob([plain.slice(1 + n)], { type: type }));
    image.hidden = false;
  }

  open().catch(function () {
    fail("The photo could not be opened.");
  });
})();
