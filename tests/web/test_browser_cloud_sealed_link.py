"""
A shared photo link under advanced protection in a real browser (Debian's chromium,
Playwright): a device (the reference client, over HTTP to the served deployment) protects
the gallery, uploads a photo with its location, shares it; the browser opens the link, the
page's script decrypts the stripped copy with the key from the URL fragment and shows the
image. The server's files hold no plaintext of the photo (canary scan), and a revoked link
shows nothing.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import CHROMIUM
from PIL import Image
from web_support import Deployment

from charter.client import CloudClient
from charter.client.protection import DeviceKey, ProtectedCloud
from charter.photos import strip_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed",
    ),
]

CANARY = "CANARY-Model-5510"


def photo() -> bytes:
    image = Image.new("RGB", (120, 80), (20, 170, 90))
    exif = image.getexif()
    exif[0x0110] = CANARY  # Model
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=92)
    return out.getvalue()


def test_the_browser_decrypts_a_shared_protected_photo_with_the_key_in_the_fragment(
    served: tuple[Deployment, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    charter = deployment.charter
    subject = deployment.cloud_on()
    token = deployment.token_for(subject)
    original = photo()
    stripped, _ = strip_bytes(original)
    with CloudClient(url, token) as cloud:
        phone = ProtectedCloud(cloud, DeviceKey.load_or_create(tmp_path / "phone.json"))
        phone.protect("gallery", acknowledge_data_loss=True)
        item = phone.upload("gallery", original, name="IMG_0042.jpg", path="DCIM/Paris")
        link = urlsplit(phone.share(item, days=3))
        page_url = f"{url}{link.path}#{link.fragment}"
        page = browser.new_context().new_page()
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_url)
        main = page.locator("#shared-photo")
        expect(main).to_have_attribute("data-state", "shown")
        expect(page.get_by_role("img", name="The shared photo")).to_be_visible()
        size = page.eval_on_selector(
            "#shared-photo-image", "i => [i.naturalWidth, i.naturalHeight]"
        )
        assert size == [120, 80] and errors == []
        # the key never left the browser: no request carried the fragment
        assert seen and not [u for u in seen if link.fragment in u or "k=" in u]
        # a wrong key shows an error, not the photo
        wrong = page.context.new_page()
        wrong.goto(f"{url}{link.path}#k={'A' * 43}")
        expect(wrong.locator("#shared-photo")).to_have_attribute("data-state", "failed")
        expect(wrong.get_by_role("status")).to_contain_text("does not open")
        # the server holds no plaintext of the photo, stripped or not, in any file
        needles = [CANARY.encode(), stripped[300:364], stripped[-300:-236], original[-300:-236]]
        files = [p for p in charter.settings.data_dir.rglob("*") if p.is_file()]
        assert not [
            (p.name, i) for p in files for i, n in enumerate(needles) if n in p.read_bytes()
        ]
        # revoked: the page says the link has ended
        (shared,) = phone.transport.request("GET", "/v1/cloud/links").json()
        assert shared["views"] == 2  # the good page and the wrong key both fetched it
        phone.transport.request("DELETE", f"/v1/cloud/links/{shared['id']}")
        gone = page.context.new_page()
        answer = gone.goto(page_url)
        assert answer is not None and answer.status == 404
